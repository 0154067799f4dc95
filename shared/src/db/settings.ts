import type { Sql } from 'postgres';

/** A runtime setting's stored JSON document, or null when never set. Callers validate it with their schema. */
export async function getSetting(sql: Sql, key: string): Promise<unknown | null> {
  const [row] = await sql<{ value: unknown }[]>`SELECT value FROM settings WHERE key = ${key}`;
  return row ? row.value : null;
}

export async function putSetting(sql: Sql, key: string, value: unknown): Promise<void> {
  await sql`
    INSERT INTO settings (key, value) VALUES (${key}, ${sql.json(value as never)})
    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`;
}

export async function deleteSetting(sql: Sql, key: string): Promise<boolean> {
  const rows = await sql`DELETE FROM settings WHERE key = ${key} RETURNING key`;
  return rows.length > 0;
}
