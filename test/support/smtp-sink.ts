import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on a free 127.0.0.1 port that keeps every message it receives, parsed. */
export interface SmtpSink {
  port: number;
  /** One entry per recipient of every message received, in order. */
  inbox: { to: string; mail: ParsedMail }[];
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const inbox: SmtpSink['inbox'] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          for (const rcpt of session.envelope.rcptTo) inbox.push({ to: rcpt.address, mail });
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const { port } = smtp.server.address() as AddressInfo;
  return { port, inbox, close: () => new Promise<void>((resolve) => smtp.close(() => resolve())) };
}
