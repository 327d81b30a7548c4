/** Raw HTTP calls to the receiver, for what fetch cannot send (a body longer than its Content-Length says, …). */
import { request } from 'node:http';

export interface Reply {
  readonly status: number;
  readonly body: string;
}

/**
 * POSTs `chunks` one after the other (chunked unless `contentLength` is given) and resolves with the answer as
 * soon as it arrives, even when the server closes the connection before the whole body was sent.
 */
export function post(
  url: string,
  headers: Record<string, string>,
  chunks: readonly (string | Buffer)[],
  contentLength?: number,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...headers,
          ...(contentLength !== undefined ? { 'content-length': String(contentLength) } : {}),
        },
      },
      (res) => {
        answered = true;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    // The server may close while the rest of the body is still being written: the answer already came.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const write = (i: number): void => {
      if (i === chunks.length) return void req.end();
      if (req.destroyed || answered) return;
      req.write(chunks[i]!, () => setImmediate(() => write(i + 1)));
    };
    write(0);
  });
}
