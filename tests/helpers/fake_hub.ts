// A local stand-in for the Hugging Face hub: serves files under /<repo>/resolve/<rev>/<file>
// with the headers the real hub sends (X-Linked-Size, X-Linked-Etag = sha256) and Range support.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeHub {
  endpoint: string;
  requests: { method: string; url: string; range?: string }[];
  close(): Promise<void>;
}

export async function startFakeHub(repo: string, files: Record<string, Buffer>, revision = 'main'): Promise<FakeHub> {
  const requests: FakeHub['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', range: req.headers.range });
    const prefix = `/${repo}/resolve/${revision}/`;
    const name = req.url?.startsWith(prefix) ? decodeURIComponent(req.url.slice(prefix.length)) : undefined;
    const body = name !== undefined ? files[name] : undefined;
    if (!body) { res.writeHead(404).end('not found'); return; }
    const sha = createHash('sha256').update(body).digest('hex');
    const headers = { 'X-Linked-Size': String(body.length), 'X-Linked-Etag': `"${sha}"`, ETag: `"${sha}"`, 'Accept-Ranges': 'bytes' };
    if (req.method === 'HEAD') { res.writeHead(200, { ...headers, 'Content-Length': String(body.length) }).end(); return; }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    res.writeHead(m ? 206 : 200, { ...headers, 'Content-Length': String(body.length - start), ...(m ? { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) });
    res.end(body.subarray(start));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}
