// A minimal XML-RPC client for supervisord's interface on its unix socket: the
// value types supervisord sends (struct, array, int, string, boolean, double,
// nil), nothing more. supervisorctl speaks the same protocol on the same socket.
import { request } from 'node:http';

export type RpcValue = string | number | boolean | null | RpcValue[] | { [key: string]: RpcValue };

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const unescapeXml = (text: string) =>
  text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');

function encode(value: RpcValue): string {
  if (typeof value === 'string') return `<value><string>${escapeXml(value)}</string></value>`;
  if (typeof value === 'boolean') return `<value><boolean>${value ? 1 : 0}</boolean></value>`;
  if (typeof value === 'number') return `<value><int>${value}</int></value>`;
  if (value === null) return '<value><nil/></value>';
  if (Array.isArray(value)) return `<value><array><data>${value.map(encode).join('')}</data></array></value>`;
  return `<value><struct>${Object.entries(value).map(([k, v]) => `<member><name>${escapeXml(k)}</name>${encode(v)}</member>`).join('')}</struct></value>`;
}

/** Parses one <value> at `pos`; returns it and the position after it. */
function decodeAt(xml: string, pos: number): [RpcValue, number] {
  const tag = /<(\/?)([a-zA-Z0-9.]+)(\/?)>/g;
  const next = () => {
    tag.lastIndex = pos;
    const m = tag.exec(xml);
    if (!m) throw new Error('xml-rpc: truncated answer');
    pos = tag.lastIndex;
    return { close: m[1] === '/', name: m[2]!, empty: m[3] === '/', start: m.index };
  };
  const open = next();
  if (open.name !== 'value') throw new Error(`xml-rpc: expected <value>, got <${open.name}>`);
  const valueStart = pos;
  const inner = next();
  if (inner.close && inner.name === 'value') return [unescapeXml(xml.slice(valueStart, inner.start)), pos];
  let result: RpcValue;
  if (inner.empty) result = inner.name === 'nil' ? null : '';
  else if (inner.name === 'array') {
    next(); // <data>
    const items: RpcValue[] = [];
    for (;;) {
      const save = pos;
      const t = next();
      if (t.close && t.name === 'data') break;
      pos = save;
      const [item, after] = decodeAt(xml, pos);
      items.push(item);
      pos = after;
    }
    next(); // </array>
    result = items;
  } else if (inner.name === 'struct') {
    const members: Record<string, RpcValue> = {};
    for (;;) {
      const t = next();
      if (t.close && t.name === 'struct') break;
      const nameStart = (next(), pos);
      const nameEnd = next().start;
      const [member, after] = decodeAt(xml, pos);
      members[unescapeXml(xml.slice(nameStart, nameEnd))] = member;
      pos = after;
      next(); // </member>
    }
    result = members;
  } else {
    const textStart = pos;
    const end = next();
    const text = unescapeXml(xml.slice(textStart, end.start));
    result = inner.name === 'string' ? text : inner.name === 'boolean' ? text === '1' : Number(text);
  }
  const close = next();
  if (!(close.close && close.name === 'value')) throw new Error(`xml-rpc: expected </value>, got <${close.name}>`);
  return [result, pos];
}

export class RpcFault extends Error {
  constructor(readonly code: number, readonly faultString: string) {
    super(`supervisord: ${faultString} (fault ${code})`);
  }
}

/** Calls `method` on the XML-RPC server at `socketPath`. */
export function rpcCall(socketPath: string, method: string, params: readonly RpcValue[] = [], timeoutMs = 30_000): Promise<RpcValue> {
  const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params.map((p) => `<param>${encode(p)}</param>`).join('')}</params></methodCall>`;
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/RPC2', method: 'POST', headers: { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(body) }, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          const fault = text.indexOf('<fault>');
          if (fault !== -1) {
            const [value] = decodeAt(text, fault + '<fault>'.length);
            const { faultCode, faultString } = value as { faultCode: number; faultString: string };
            reject(new RpcFault(faultCode, faultString));
            return;
          }
          const param = text.indexOf('<param>');
          if (param === -1) throw new Error(`xml-rpc: ${method}: no result (HTTP ${res.statusCode})`);
          resolve(decodeAt(text, param + '<param>'.length)[0]);
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`xml-rpc: ${method}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
