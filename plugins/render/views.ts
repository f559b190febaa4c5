// One typed view per template: plain values, already chosen and checked by the
// component's renderer. Templates see these and nothing else.

export interface NginxAclRule {
  index: number;
  /** A map regex over "$remote_user $request_method $uri". */
  pattern: string;
  verdict: 'allow' | 'deny';
  comment: boolean;
}

export interface NginxRoute {
  owner: string;
  prefix: string;
  /** host:port */
  upstream: string;
  maxBodySize: string;
}

export interface NginxView {
  header: string;
  /** Workers run as the service user and group (the group may read the htpasswd file). */
  user: string;
  group: string;
  pidFile: string;
  errorLog: string;
  accessLog: string;
  tempDir: string;
  errorsDir: string;
  serverNames: string[];
  httpPort: number;
  httpsPort: number;
  /** ":8443" when HTTPS is not on 443, for the redirect. */
  httpsSuffix: string;
  certificate: string;
  certificateKey: string;
  forceSsl: boolean;
  registry: NginxRoute;
  /** htpasswd mode only. */
  htpasswd: { realm: string; userFile: string; emptyDir: string } | false;
  acl: NginxAclRule[] | false;
  routes: NginxRoute[];
}

export interface ProgramView {
  owner: string;
  name: string;
  command: string[];
  directory: string | false;
  user: string | false;
  environment: { name: string; value: string }[];
  priority: number;
  autorestart: boolean;
  startsecs: number;
  stopsignal: string;
  stopwaitsecs: number;
  /** false: the supervisor's own stdout. */
  logFile: string | false;
}

export interface SupervisordView {
  header: string;
  logFile: string;
  pidFile: string;
  logDir: string;
  socket: string;
  programs: ProgramView[];
}

export interface CircusView {
  header: string;
  endpoint: string;
  pubsub: string;
  pidFile: string;
  logFile: string;
  programs: (Omit<ProgramView, 'command' | 'autorestart' | 'startsecs'> & { cmd: string; args: string[]; respawn: boolean })[];
}

export interface SshdView {
  header: string;
  listen: string;
  port: number;
  hostKeys: string[];
  pidFile: string;
  authorizedKeys: string;
}

export interface RedisView {
  header: string;
  host: string;
  port: number;
  maxmemory: string;
  dir: string;
  persistence: boolean;
}

export interface LogrotateView {
  header: string;
  groups: { owner: string; files: string[]; reopen: string | false }[];
}

export interface CrontabView {
  header: string;
  entries: { owner: string; path: string; content: string }[];
}
