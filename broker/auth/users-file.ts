// The broker's users file: JSON, one entry per user, passwords stored as salted scrypt hashes.
// Parsed once with a schema; written atomically (temp file + rename) with mode 0600.

import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeSecretFile } from './secret-file.js';
import { z } from 'zod';
import { isValidId } from '@fleetmind/wire/ids'; // not the codec: `fleetmind broker --help` stays quick

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));

/** scrypt cost: N=2^14, r=8 ≈ 16 MiB and ~50 ms per check here — slow for guessing, fine per connection */
const KDF = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

export const ROLES = ['agent', 'fleet', 'world', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const id = z.string().refine(isValidId, 'must be 1-64 characters of A-Z a-z 0-9 _ . -');

const userSchema = z.strictObject({
  username: id,
  role: z.enum(ROLES),
  fleet: id.optional(),
  agent: id.optional(),
  kdf: z.strictObject({ name: z.literal('scrypt'), N: z.number().int(), r: z.number().int(), p: z.number().int(), keylen: z.number().int() }),
  salt: z.string().min(16),
  hash: z.string().min(16),
}).superRefine((u, ctx) => {
  if (u.role !== 'admin' && !u.fleet) ctx.addIssue({ code: 'custom', path: ['fleet'], message: `a ${u.role} user needs a fleet` });
  if (u.role === 'agent' && !u.agent) ctx.addIssue({ code: 'custom', path: ['agent'], message: 'an agent user needs an agent id' });
  if (u.role !== 'agent' && u.agent) ctx.addIssue({ code: 'custom', path: ['agent'], message: `only agent users have an agent id` });
});

const fileSchema = z.strictObject({ version: z.literal(1), users: z.array(userSchema) });

export type StoredUser = z.infer<typeof userSchema>;
/** What the ACL needs to know of an authenticated user. */
export type Principal = Pick<StoredUser, 'username' | 'role' | 'fleet' | 'agent'>;

export class UsersFileError extends Error {
  readonly code = 'FM_ERR_USERS';
}

export class UsersFile {
  private constructor(readonly path: string, private users: StoredUser[]) {}

  /** Loads the file; a missing file is an empty user list only when `createIfMissing`. */
  static async load(path: string, { createIfMissing = false } = {}): Promise<UsersFile> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && createIfMissing) return new UsersFile(path, []);
      throw new UsersFileError(`cannot read users file ${path}: ${(err as Error).message}`);
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new UsersFileError(`users file ${path} is not valid JSON: ${(err as Error).message}`);
    }
    const parsed = fileSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UsersFileError(`users file ${path}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    }
    const seen = new Set<string>();
    for (const u of parsed.data.users) {
      if (seen.has(u.username)) throw new UsersFileError(`users file ${path}: user "${u.username}" appears twice`);
      seen.add(u.username);
    }
    return new UsersFile(path, parsed.data.users);
  }

  list(): Principal[] {
    return this.users.map(({ username, role, fleet, agent }) => ({ username, role, fleet, agent }));
  }

  /** scryptCost overrides N (a power of two) — only for throwaway users, e.g. benchmark fleets */
  async add(user: Principal, password: string, { scryptCost = KDF.N }: { scryptCost?: number } = {}): Promise<void> {
    if (password.length < 8) throw new UsersFileError('password must be at least 8 characters');
    if (this.users.some((u) => u.username === user.username)) throw new UsersFileError(`user "${user.username}" already exists`);
    const kdf = { ...KDF, N: scryptCost };
    const salt = randomBytes(16);
    const hash = await scrypt(password, salt, kdf.keylen, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 64 * 1024 * 1024 });
    const stored = userSchema.safeParse({ ...stripUndefined(user), kdf: { name: 'scrypt', ...kdf }, salt: salt.toString('base64'), hash: hash.toString('base64') });
    if (!stored.success) {
      const issue = stored.error.issues[0];
      throw new UsersFileError(`${issue.path.join('.') || 'user'}: ${issue.message}`);
    }
    this.users.push(stored.data);
  }

  remove(username: string): void {
    const before = this.users.length;
    this.users = this.users.filter((u) => u.username !== username);
    if (this.users.length === before) throw new UsersFileError(`no user "${username}" in ${this.path}`);
  }

  async save(): Promise<void> {
    writeSecretFile(this.path, `${JSON.stringify({ version: 1, users: this.users }, null, 2)}\n`);
  }

  /** The user if the password is right, else null (unknown users cost the same time). */
  async verify(username: string, password: string): Promise<{ principal: Principal | null; reason?: 'unknown_user' | 'bad_password' }> {
    const user = this.users.find((u) => u.username === username);
    const kdf = user?.kdf ?? { ...KDF };
    const salt = user ? Buffer.from(user.salt, 'base64') : randomBytes(16);
    const expected = user ? Buffer.from(user.hash, 'base64') : randomBytes(kdf.keylen);
    const actual = await scrypt(password, salt, kdf.keylen, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 64 * 1024 * 1024 });
    if (!user) return { principal: null, reason: 'unknown_user' };
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return { principal: null, reason: 'bad_password' };
    return { principal: { username: user.username, role: user.role, fleet: user.fleet, agent: user.agent } };
  }
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
