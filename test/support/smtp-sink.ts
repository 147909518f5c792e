import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on a free 127.0.0.1 port that keeps every message it receives, parsed. */
export interface SmtpSink {
  port: number;
  /** One entry per recipient of every message received, in order. */
  inbox: { to: string; mail: ParsedMail }[];
  /** Every recipient refused at RCPT TO (see `rejectRecipient`), in order. */
  rejected: string[];
  close(): Promise<void>;
}

export interface SmtpSinkOptions {
  /** The text of a 550 reply for a recipient to refuse at RCPT TO (as a real server bounces an unknown mailbox); undefined accepts it. */
  rejectRecipient?: (address: string) => string | undefined;
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const inbox: SmtpSink['inbox'] = [];
  const rejected: string[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const reply = options.rejectRecipient?.(address.address);
      if (reply === undefined) return callback();
      rejected.push(address.address);
      callback(Object.assign(new Error(reply), { responseCode: 550 }));
    },
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
  return { port, inbox, rejected, close: () => new Promise<void>((resolve) => smtp.close(() => resolve())) };
}
