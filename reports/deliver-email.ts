// Delivery by e-mail over SMTP (nodemailer's SMTP connection and MIME composer). One connection
// per message: reports go out a few at a time, and a connection per message keeps a failure to
// one recipient's server from leaking into the next report.
//
// Size: the message is built first, so its exact size is known, and handed to the connection as
// the envelope's size. nodemailer compares it with the SIZE the server advertised in its EHLO
// answer (RFC 1870) and refuses before MAIL FROM; a server that advertises nothing but refuses
// the data with 552 means the same. Both come back as `MessageTooLargeError`, which the report
// runner answers by sending a signed download link instead of the attachment.
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import MailComposer from 'nodemailer/lib/mail-composer';

export interface SmtpSettings { host: string; port: number; secure: boolean; user?: string; pass?: string; from: string }

export interface EmailMessage {
  to: string[];
  subject: string;
  text: string;
  html?: string;
  attachments?: { filename: string; content: Buffer; contentType: string }[];
}

export interface EmailResult { accepted: string[]; rejected: { address: string; error: string }[] }

/** The message is larger than the server takes: `limit` is what it advertised (null when it only refused the data). */
export class MessageTooLargeError extends Error {
  constructor(readonly size: number, readonly limit: number | null, detail: string) {
    super(`The message (${size.toLocaleString('en-US')} bytes) is larger than the SMTP server accepts${limit ? ` (${limit.toLocaleString('en-US')} bytes, its EHLO SIZE)` : ''}: ${detail}`);
    this.name = 'MessageTooLargeError';
  }
}

/** A failure of the whole message (connection, authentication, the server refusing it): `temporary` for a 4xx or a network error, worth another attempt. */
export class EmailError extends Error {
  constructor(message: string, readonly temporary: boolean, readonly code?: string, readonly responseCode?: number) {
    super(message);
    this.name = 'EmailError';
  }
}

interface NodemailerErr extends Error { code?: string; responseCode?: number; response?: string; rejected?: string[]; rejectedErrors?: NodemailerErr[]; recipient?: string }

const TIMEOUTS = { connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 60_000 };

/** The address part of "Name <a@b>" (the envelope needs the bare address; the header keeps the name). */
export function bareAddress(from: string): string {
  const m = /<([^>]+)>\s*$/.exec(from);
  return (m ? m[1] : from).trim();
}

function connect(smtp: SmtpSettings): Promise<SMTPConnection> {
  const conn = new SMTPConnection({ host: smtp.host, port: smtp.port, secure: smtp.secure, ...TIMEOUTS });
  return new Promise((resolve, reject) => {
    // A failed handshake or login must not leave the socket open (the server would wait on it).
    const fail = (err: Error) => {
      conn.close();
      reject(err);
    };
    conn.once('error', fail);
    conn.connect((err) => {
      if (err) return fail(err);
      if (!smtp.user) return resolve(conn);
      conn.login({ user: smtp.user, pass: smtp.pass ?? '' }, (e) => (e ? fail(e) : resolve(conn)));
    });
  });
}

function temporary(err: NodemailerErr): boolean {
  // No response code: the network, a timeout, TLS — worth another attempt. 4xx: the server says try later.
  return !err.responseCode || (err.responseCode >= 400 && err.responseCode < 500);
}

/**
 * Sends one message to all of `to`. Recipients the server refuses come back in `rejected` with the
 * server's answer; a message no one could take, or that could not be sent at all, throws
 * (`MessageTooLargeError`, or `EmailError` saying whether it is worth retrying).
 */
export async function sendEmail(smtp: SmtpSettings, m: EmailMessage): Promise<EmailResult> {
  if (m.to.length === 0) throw new EmailError('No recipients', false);
  const raw = await new MailComposer({
    from: smtp.from,
    to: m.to,
    subject: m.subject,
    text: m.text,
    html: m.html,
    attachments: m.attachments?.map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType })),
  })
    .compile()
    .build();

  let conn: SMTPConnection;
  try {
    conn = await connect(smtp);
  } catch (e) {
    const err = e as NodemailerErr;
    throw new EmailError(`SMTP ${smtp.host}:${smtp.port}: ${err.message}`, temporary(err), err.code, err.responseCode);
  }
  try {
    const info = await new Promise<{ accepted: string[]; rejected: string[]; rejectedErrors?: NodemailerErr[] }>((resolve, reject) => {
      conn.send({ from: bareAddress(smtp.from), to: m.to, size: raw.length }, raw, (err, i) => (err ? reject(err) : resolve(i!)));
    });
    return { accepted: info.accepted, rejected: rejections(info.rejected, info.rejectedErrors) };
  } catch (e) {
    const err = e as NodemailerErr;
    // nodemailer's own check against the EHLO SIZE ("Message size larger than allowed N"), or the server's 552.
    const advertised = /larger than allowed (\d+)/.exec(err.message);
    if (advertised || err.responseCode === 552) throw new MessageTooLargeError(raw.length, advertised ? Number(advertised[1]) : null, err.response ?? err.message);
    // Every recipient refused: not an error of the message, an answer per recipient.
    if (err.rejected && err.rejected.length > 0) return { accepted: [], rejected: rejections(err.rejected, err.rejectedErrors) };
    throw new EmailError(`SMTP ${smtp.host}:${smtp.port}: ${err.message}`, temporary(err), err.code, err.responseCode);
  } finally {
    conn.quit();
  }
}

function rejections(addresses: string[], errors: NodemailerErr[] | undefined): EmailResult['rejected'] {
  return addresses.map((address) => {
    const e = errors?.find((x) => x.recipient === address);
    return { address, error: e?.response ?? e?.message ?? 'refused by the server' };
  });
}
