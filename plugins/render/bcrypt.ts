// bcrypt hashes for htpasswd and docker_auth's users (bcryptjs, cost 10). The
// salt is derived from the user and the password, so the same secrets render
// byte-identical files (a random salt would rewrite the file on every render);
// it is still unique per user and password, which is all a salt must be.
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';

const BCRYPT_COST = 10;

export function bcryptHash(user: string, password: string): string {
  const seed = createHash('sha256').update(`corpus-kit bcrypt salt\0${user}\0${password}`).digest();
  const salt = `$2b$${BCRYPT_COST}$${bcrypt.encodeBase64([...seed.subarray(0, 16)], 16)}`;
  return bcrypt.hashSync(password, salt);
}
