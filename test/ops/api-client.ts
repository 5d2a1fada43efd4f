import { request } from 'node:https';
import { request as plainRequest } from 'node:http';

/** One answer of the admin API. */
export interface ApiReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any;
}

/** Calls the admin API on 127.0.0.1:port; `tls` uses HTTPS without checking the (test) certificate. */
export function api(
  port: number,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; contentType?: string; tls?: boolean } = {},
): Promise<ApiReply> {
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const send = options.tls ? request : plainRequest;
  return new Promise((resolve, reject) => {
    const req = send({ host: '127.0.0.1', port, path, method, headers, agent: false, rejectUnauthorized: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = text;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
