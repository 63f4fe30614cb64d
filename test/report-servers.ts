// Real servers for the report delivery tests: an SMTP server (smtp-server, messages read back with
// mailparser) and an HTTP receiver that checks each webhook's HMAC.
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DELIVERY_HEADER, SIGNATURE_HEADER, verifyWebhookSignature } from '../reports/deliver-webhook.ts';

export interface TestSmtp { port: number; received: { envelope: string[]; mail: ParsedMail }[]; close(): Promise<void> }

/** A real SMTP server: advertises `size` in EHLO, refuses recipients at refused.example, needs the login when `auth` is given. */
export async function startTestSmtp(o: { size?: number; auth?: { user: string; pass: string } } = {}): Promise<TestSmtp> {
  const received: TestSmtp['received'] = [];
  const server = new SMTPServer({
    disabledCommands: o.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    allowInsecureAuth: true,
    authOptional: !o.auth,
    size: o.size,
    logger: false,
    onAuth(auth, _session, cb) {
      if (o.auth && auth.username === o.auth.user && auth.password === o.auth.pass) return cb(null, { user: auth.username });
      cb(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, cb) {
      if (address.address.endsWith('@refused.example')) return cb(Object.assign(new Error('No such mailbox'), { responseCode: 550 }));
      cb();
    },
    onData(stream, session, cb) {
      simpleParser(stream)
        .then((mail) => {
          received.push({ envelope: session.envelope.rcptTo.map((r) => r.address), mail });
          cb();
        })
        .catch(cb);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.server.address() as AddressInfo).port, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

interface Hit { path: string; body: string; signatureOk: boolean; delivery: string; at: number }

export async function startReceiver(secret: string, answer: (path: string, n: number) => number): Promise<{ url: string; hits: Hit[]; server: Server; close(): Promise<void> }> {
  const hits: Hit[] = [];
  const counts = new Map<string, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      hits.push({ path, body, signatureOk: verifyWebhookSignature(secret, body, req.headers[SIGNATURE_HEADER] as string | undefined), delivery: String(req.headers[DELIVERY_HEADER]), at: Date.now() });
      const status = verifyWebhookSignature(secret, body, req.headers[SIGNATURE_HEADER] as string | undefined) ? answer(path, n) : 401;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(String(status));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, hits, server, close: () => new Promise<void>((r) => server.close(() => r())) };
}

