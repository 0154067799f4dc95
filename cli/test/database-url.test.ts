/**
 * Deployed functions read the database URL from the `database-url` secret stack.yml gives them (the URL
 * holds the password); DATABASE_URL wins where it is set (the runner, tests).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, resetEnv } from '@weaver/shared/config';
import { databaseUrl } from '@weaver/shared/db';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

describe('databaseUrl', () => {
  let dir: string;
  const saved = { ...process.env };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weaver-secrets-'));
    process.env.WEAVER_SECRETS_DIR = dir;
    delete process.env.DATABASE_URL;
    resetEnv();
  });
  afterEach(() => {
    process.env = { ...saved };
    resetEnv();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the database-url secret file when DATABASE_URL is unset', () => {
    writeFileSync(join(dir, 'database-url'), 'postgres://weaver:pw@10.62.0.1:5432/weaver\n');
    expect(databaseUrl()).toBe('postgres://weaver:pw@10.62.0.1:5432/weaver');
  });

  it('prefers DATABASE_URL', () => {
    writeFileSync(join(dir, 'database-url'), 'postgres://from-secret/db');
    process.env.DATABASE_URL = 'postgres://from-env/db';
    resetEnv();
    expect(databaseUrl()).toBe('postgres://from-env/db');
  });

  it('names the secret when it is malformed, and DATABASE_URL when neither is there', () => {
    writeFileSync(join(dir, 'database-url'), 'mysql://nope');
    expect(() => databaseUrl()).toThrow(ConfigError);
    expect(() => databaseUrl()).toThrow(/database-url must be a postgres:\/\/ URL/);
    rmSync(join(dir, 'database-url'));
    expect(() => databaseUrl()).toThrow(/DATABASE_URL is required/);
  });
});
