/**
 * The encrypted file that keeps the tokens of backends an admin logged in to (`mcp-gateway login`),
 * shared by the login command and the running gateway: the login writes, the gateway notices the
 * change (a poll of the file's stat, so it works across processes and on any file system) and
 * connects the backend without a restart.
 *
 * At rest the file is JSON naming its format plus one AES-256-GCM ciphertext (random 96-bit IV, the
 * auth tag checked on read). The 256-bit key is stretched with scrypt from MCP_GATEWAY_TOKEN_KEY, or
 * from the key file (created with 32 random bytes, mode 0600, when first needed). Both files are
 * written 0600; writes go to a temporary file that is renamed, so a reader never sees half a file.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  unwatchFile,
  watchFile,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { TokenStoreSettings } from '../config/types.js';
import { GatewayError } from '../errors.js';

const FORMAT = 'mcp-gateway-token-store';
const POLL_MS = 500;

/** What one backend's login left: its tokens, and the client registered for it (RFC 7591). */
export interface StoredLogin {
  /** The backend URL the tokens are for: a changed URL means a new login. */
  url: string;
  tokens?: Record<string, unknown>;
  client?: Record<string, unknown>;
  /** When the tokens were saved, ms since the epoch (expires_in counts from then). */
  savedAt?: number;
}

type StoreContents = Record<string, StoredLogin>;

interface Envelope {
  format: typeof FORMAT;
  version: 1;
  salt: string;
  iv: string;
  tag: string;
  data: string;
}

export class TokenStore {
  private key: { salt: Buffer; key: Buffer } | undefined;

  constructor(
    readonly settings: TokenStoreSettings,
    private readonly env: Readonly<Record<string, string | undefined>> = process.env,
  ) {}

  get(server: string): StoredLogin | undefined {
    return this.read()[server];
  }

  /** Reads, changes and writes back one server's entry (`undefined` removes it). */
  update(server: string, change: (entry: StoredLogin | undefined) => StoredLogin | undefined): void {
    const all = this.read();
    const next = change(all[server]);
    if (next) all[server] = next;
    else delete all[server];
    this.write(all);
  }

  /** Calls `listener` whenever the file changes (any process). Returns the unsubscribe. */
  watch(listener: () => void): () => void {
    const onChange = (now: { mtimeMs: number }, before: { mtimeMs: number }) => {
      if (now.mtimeMs !== before.mtimeMs) listener();
    };
    watchFile(this.settings.path, { interval: POLL_MS, persistent: false }, onChange);
    return () => unwatchFile(this.settings.path, onChange);
  }

  private read(): StoreContents {
    if (!existsSync(this.settings.path)) return {};
    let envelope: Envelope;
    try {
      envelope = JSON.parse(readFileSync(this.settings.path, 'utf8')) as Envelope;
    } catch (err) {
      throw storeError(this.settings.path, 'is not a token store file', err);
    }
    if (envelope.format !== FORMAT || envelope.version !== 1)
      throw storeError(this.settings.path, 'is not a token store file (unknown format)');
    const salt = Buffer.from(envelope.salt, 'base64');
    const key = this.keyFor(salt, false);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'));
      decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
      const plain = Buffer.concat([decipher.update(Buffer.from(envelope.data, 'base64')), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as StoreContents;
    } catch (err) {
      throw storeError(
        this.settings.path,
        `cannot be decrypted: wrong key (${this.settings.keyEnv} or ${this.settings.keyFile}) or a damaged file`,
        err,
      );
    }
  }

  private write(all: StoreContents): void {
    const salt = this.key?.salt ?? randomBytes(16);
    const key = this.keyFor(salt, true);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(all), 'utf8'), cipher.final()]);
    const envelope: Envelope = {
      format: FORMAT,
      version: 1,
      salt: salt.toString('base64'),
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    writePrivate(this.settings.path, `${JSON.stringify(envelope)}\n`);
  }

  /** The AES key for `salt`; scrypt runs once per salt (it is slow on purpose). */
  private keyFor(salt: Buffer, create: boolean): Buffer {
    if (this.key?.salt.equals(salt)) return this.key.key;
    const material = this.keyMaterial(create);
    const key = scryptSync(material, salt, 32);
    this.key = { salt, key };
    return key;
  }

  private keyMaterial(create: boolean): string {
    const fromEnv = this.env[this.settings.keyEnv];
    if (fromEnv) return fromEnv;
    const file = this.settings.keyFile;
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    if (!create)
      throw storeError(this.settings.path, `has no key: set ${this.settings.keyEnv} or restore ${file}`);
    writePrivate(file, `${randomBytes(32).toString('base64')}\n`);
    return readFileSync(file, 'utf8').trim();
  }
}

function writePrivate(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

function storeError(path: string, what: string, cause?: unknown): GatewayError {
  return new GatewayError('CONFIG_READ_FAILED', `token store ${path} ${what}`, { path }, { cause });
}
