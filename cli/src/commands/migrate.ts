import { join } from 'node:path';
import { ConfigError, parseEnv } from '@weaver/shared/config';
import { migrate } from '@weaver/shared/db';
import type { Command } from '../main.ts';
import { openDatabase } from '../runner/database.ts';
import { PROJECT_ROOT } from '../runner/runner.ts';

const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply pending database migrations (DATABASE_URL, or the embedded database of `weaver start`)',
  usage: `usage: weaver migrate

Applies shared/src/db/migrations in order, each once, to DATABASE_URL — or, when it is unset, to the
embedded PostgreSQL that \`weaver start\` keeps in .weaver/pg (started for the occasion).`,
  async run(argv) {
    if (argv.length) {
      process.stderr.write(`weaver migrate takes no arguments\n`);
      return 2;
    }
    let url: string | undefined;
    try {
      url = parseEnv().DATABASE_URL;
    } catch (e) {
      if (e instanceof ConfigError) {
        process.stderr.write(`weaver migrate: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
    const db = await openDatabase({ url, stateDir: join(PROJECT_ROOT, '.weaver'), poolMax: 1 });
    try {
      const applied = await migrate(db.sql);
      const where = db.embedded ? 'the embedded database (.weaver/pg)' : 'DATABASE_URL';
      process.stdout.write(
        applied.length
          ? `applied ${applied.length} migration(s) to ${where}: ${applied.join(', ')}\n`
          : `${where} is up to date\n`,
      );
      return 0;
    } catch (e) {
      process.stderr.write(`weaver migrate: ${(e as Error).message}\n`);
      return 1;
    } finally {
      await db.close();
    }
  },
};

export default migrateCommand;
