// The one credential scrubber for URL-shaped text: `scheme://user:password@host`
// anywhere in a string, whether or not the URL parser accepts it (a password
// holding `@`, `/` or a bad %-escape still counts). The logger, pillar:show and
// every command line built with a URL go through it. No imports: lib/ and the
// pillar both use it.

/**
 * `scheme://` then the userinfo up to the `@` before the host. Two shapes: a
 * userinfo without `/` (up to the last `@` before the path, so a password may
 * hold `@`), or `user:password` whose password holds `/`, followed by a host
 * (but not `host:port/path@...`, a path with `@` in it, as Go proxy URLs have).
 */
const USERINFO = /([A-Za-z][A-Za-z0-9+.-]*:\/\/)(?:([^\s/?#@'"`<>]*(?:@[^\s/?#@'"`<>]*)*)@|([^\s/?#@:'"`<>]*:(?!\d{1,5}[/?#])[^\s@'"`<>]*?)@(?=[A-Za-z0-9[][A-Za-z0-9.:\]-]*(?:[/?#\s'"`<>]|$)))/g;

/** What replaces a URL's userinfo. */
const HIDDEN = '***';

/** Over ssh the user is an account name (git@), not a secret: only a password counts there. */
const userIsSecret = (scheme: string) => !/^(?:ssh|git\+ssh|ssh\+git|git):\/\/$/i.test(scheme);

function* userinfos(text: string): Generator<{ scheme: string; user: string; password?: string }> {
  for (const match of text.matchAll(USERINFO)) {
    const userinfo = match[2] ?? match[3]!;
    const colon = userinfo.indexOf(':');
    yield colon < 0 ? { scheme: match[1]!, user: userinfo } : { scheme: match[1]!, user: userinfo.slice(0, colon), password: userinfo.slice(colon + 1) };
  }
}

/** A URL part decoded, or as it is when its escapes are malformed. */
export function decodeUrlPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** The credentials held by the URLs in `text` (https://TOKEN@, user:password@), raw and %-decoded. */
export function urlCredentials(text: string): string[] {
  const found = new Set<string>();
  for (const { scheme, user, password } of userinfos(text)) {
    for (const part of [userIsSecret(scheme) ? user : '', password ?? '']) {
      if (part) found.add(part).add(decodeUrlPart(part));
    }
  }
  return [...found];
}

/** `text` with every URL's credentials replaced by ***: `https://***@host/`, `ssh://git:***@host/`. */
export function scrubUrls(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(USERINFO, (whole, scheme: string, plain?: string, withSlash?: string) => {
    const userinfo = plain ?? withSlash!;
    const colon = userinfo.indexOf(':');
    if (userIsSecret(scheme)) return userinfo ? `${scheme}${HIDDEN}@` : whole;
    if (colon < 0) return whole; // ssh://git@host: an account name
    return `${scheme}${userinfo.slice(0, colon)}:${HIDDEN}@`;
  });
}

/**
 * The URL a command may be given: without the credentials it holds (a
 * password in ssh://user:pw@ is never used by ssh anyway; https credentials
 * travel another way, see lib/git.ts). The account name of ssh/git URLs stays.
 */
export function withoutCredentials(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(USERINFO, (whole, scheme: string, plain?: string, withSlash?: string) => {
    const userinfo = plain ?? withSlash!;
    if (userIsSecret(scheme)) return scheme;
    const colon = userinfo.indexOf(':');
    return colon < 0 ? whole : `${scheme}${userinfo.slice(0, colon)}@`;
  });
}
