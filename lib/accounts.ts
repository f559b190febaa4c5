// Local users and groups by name, as /etc/passwd and /etc/group list them (the
// service user and group, the editor group): the third field is the id.
import { readFileSync } from 'node:fs';

export function localId(database: 'passwd' | 'group', name: string): number | undefined {
  const entry = readFileSync(`/etc/${database}`, 'utf8').split('\n').map((line) => line.split(':')).find((fields) => fields[0] === name);
  return entry ? Number(entry[2]) : undefined;
}
