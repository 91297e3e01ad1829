import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TokenStore } from '../../src/backends/token-store.js';
import { tempDir } from '../helpers/gateway.js';

function settings() {
  const file = path.join(tempDir(), 'tokens.enc');
  return { path: file, keyFile: `${file}.key`, keyEnv: 'TEST_TOKEN_KEY' };
}

describe('the token store', () => {
  it('round-trips, and keeps no plaintext on disk', () => {
    const s = settings();
    const store = new TokenStore(s, { TEST_TOKEN_KEY: 'k1' });
    store.update('remote', () => ({ url: 'https://x/mcp', tokens: { access_token: 'secret-access' } }));
    expect(new TokenStore(s, { TEST_TOKEN_KEY: 'k1' }).get('remote')?.tokens?.access_token).toBe(
      'secret-access',
    );
    expect(readFileSync(s.path, 'utf8')).not.toContain('secret-access');
  });

  it('refuses a wrong key and a changed file, naming the store', () => {
    const s = settings();
    new TokenStore(s, { TEST_TOKEN_KEY: 'k1' }).update('remote', () => ({ url: 'u', tokens: { a: 1 } }));
    expect(() => new TokenStore(s, { TEST_TOKEN_KEY: 'k2' }).get('remote')).toThrow(
      /cannot be decrypted: wrong key/,
    );
    const envelope = JSON.parse(readFileSync(s.path, 'utf8')) as { data: string };
    const data = Buffer.from(envelope.data, 'base64');
    data[0] = (data[0] ?? 0) ^ 1;
    writeFileSync(s.path, JSON.stringify({ ...envelope, data: data.toString('base64') }));
    expect(() => new TokenStore(s, { TEST_TOKEN_KEY: 'k1' }).get('remote')).toThrow(new RegExp(s.path));
  });

  it('without the key variable, makes a key file on the first write and asks for it on read', () => {
    const s = settings();
    new TokenStore(s, {}).update('remote', () => ({ url: 'u' }));
    expect(readFileSync(s.keyFile, 'utf8').trim().length).toBeGreaterThan(20);
    writeFileSync(s.keyFile, 'another key');
    expect(() => new TokenStore(s, {}).get('remote')).toThrow(/wrong key/);
  });
});
