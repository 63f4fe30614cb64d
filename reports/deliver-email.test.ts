// E-mail delivery against a real SMTP server (smtp-server on 127.0.0.1), read back with mailparser.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSmtp, type TestSmtp } from '../test/report-servers.ts';
import { EmailError, MessageTooLargeError, sendEmail, type SmtpSettings } from './deliver-email.ts';

describe('sendEmail (real SMTP server)', () => {
  let smtp: TestSmtp;
  let settings: SmtpSettings;
  beforeAll(async () => {
    smtp = await startTestSmtp({ size: 200_000 });
    settings = { host: '127.0.0.1', port: smtp.port, secure: false, from: 'Civic Pulse <reports@city.example>' };
  });
  afterAll(() => smtp.close());

  it('delivers text, HTML and an attachment that reads back byte for byte', async () => {
    const csv = Buffer.from('service,opened\r\nPothole Repair,41\r\n', 'utf8');
    const r = await sendEmail(settings, { to: ['a@city.example', 'b@city.example'], subject: 'Weekly summary', text: 'Attached.', html: '<p>Attached.</p>', attachments: [{ filename: 'w.csv', content: csv, contentType: 'text/csv' }] });
    expect(r).toEqual({ accepted: ['a@city.example', 'b@city.example'], rejected: [] });
    const got = smtp.received.at(-1)!;
    expect(got.envelope).toEqual(['a@city.example', 'b@city.example']);
    expect(got.mail.subject).toBe('Weekly summary');
    expect(got.mail.from?.value).toEqual([{ name: 'Civic Pulse', address: 'reports@city.example' }]);
    expect(got.mail.text?.trim()).toBe('Attached.');
    expect(got.mail.html).toContain('<p>Attached.</p>');
    expect(got.mail.attachments).toHaveLength(1);
    expect(got.mail.attachments[0].filename).toBe('w.csv');
    expect(got.mail.attachments[0].contentType).toBe('text/csv');
    expect(Buffer.compare(got.mail.attachments[0].content, csv)).toBe(0);
  });

  it('reports each refused recipient with the server answer, and delivers to the rest', async () => {
    const r = await sendEmail(settings, { to: ['ok@city.example', 'gone@refused.example'], subject: 's', text: 't' });
    expect(r.accepted).toEqual(['ok@city.example']);
    expect(r.rejected).toEqual([{ address: 'gone@refused.example', error: expect.stringContaining('550') }]);
    expect(smtp.received.at(-1)!.envelope).toEqual(['ok@city.example']);
  });

  it('every recipient refused: an answer per recipient, not a throw', async () => {
    const r = await sendEmail(settings, { to: ['x@refused.example'], subject: 's', text: 't' });
    expect(r).toEqual({ accepted: [], rejected: [{ address: 'x@refused.example', error: expect.stringContaining('No such mailbox') }] });
  });

  it('a message over the EHLO SIZE limit is refused before it is sent, saying the limit', async () => {
    const before = smtp.received.length;
    const big = Buffer.alloc(300_000, 7);
    const err = await sendEmail(settings, { to: ['a@city.example'], subject: 'big', text: 't', attachments: [{ filename: 'big.pdf', content: big, contentType: 'application/pdf' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(MessageTooLargeError);
    expect((err as MessageTooLargeError).limit).toBe(200_000);
    expect((err as MessageTooLargeError).size).toBeGreaterThan(300_000);
    expect(smtp.received.length).toBe(before);
  });

  it('a server that cannot be reached is a temporary EmailError', async () => {
    const closed = await startTestSmtp();
    await closed.close();
    const err = await sendEmail({ ...settings, port: closed.port }, { to: ['a@city.example'], subject: 's', text: 't' }).catch((e) => e);
    expect(err).toBeInstanceOf(EmailError);
    expect((err as EmailError).temporary).toBe(true);
    expect((err as EmailError).message).toContain(`127.0.0.1:${closed.port}`);
  });

  it('logs in when a user is configured; a wrong password is a permanent EmailError', async () => {
    const authed = await startTestSmtp({ auth: { user: 'reports', pass: 's3cret' } });
    try {
      const ok = await sendEmail({ ...settings, port: authed.port, user: 'reports', pass: 's3cret' }, { to: ['a@city.example'], subject: 'auth', text: 't' });
      expect(ok.accepted).toEqual(['a@city.example']);
      const err = await sendEmail({ ...settings, port: authed.port, user: 'reports', pass: 'wrong' }, { to: ['a@city.example'], subject: 's', text: 't' }).catch((e) => e);
      expect(err).toBeInstanceOf(EmailError);
      expect((err as EmailError).temporary).toBe(false);
      expect(authed.received).toHaveLength(1);
    } finally {
      await authed.close();
    }
  });
});
