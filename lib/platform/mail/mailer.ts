import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { getConfig } from '../config';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** A stable Message-ID (one per notification), so a receiver can recognise a duplicate. */
  messageId: string;
}

let transport: Transporter<SMTPTransport.SentMessageInfo> | undefined;

/**
 * The one SMTP transport of this container (SMTP_URL, SMTP_FROM), created on first use and closed
 * by lib/platform/lifecycle/close-all.ts. Not pooled: each message opens its own SMTP session, so a server
 * that restarted or a container that was frozen never leaves a dead pooled socket behind, and the
 * notification queue's concurrency bounds the number of open sessions. nodemailer is loaded here,
 * at the first e-mail: the job Lambda runs every queue's jobs, most of which send none.
 */
export async function getMailer(): Promise<Transporter<SMTPTransport.SentMessageInfo>> {
  if (!transport) {
    const { default: nodemailer } = await import('nodemailer');
    const { mail } = getConfig();
    transport ??= nodemailer.createTransport(
      {
        // nodemailer reads the URL itself: host, port (465 for smtps://, else 587), credentials, and
        // options in the query, so `?requireTLS=true` makes STARTTLS compulsory (production needs it).
        url: mail.smtpUrl,
        connectionTimeout: mail.timeoutMs,
        greetingTimeout: mail.timeoutMs,
        socketTimeout: mail.timeoutMs,
      },
      { from: mail.from },
    );
  }
  return transport;
}

/** Sends one message; rejects on any SMTP failure (the caller records it and lets BullMQ retry). */
export async function sendMail(message: MailMessage): Promise<{ messageId: string; accepted: string[] }> {
  const info = await (await getMailer()).sendMail({
    to: message.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    messageId: message.messageId,
  });
  if (info.rejected.length > 0) throw new Error(`SMTP rejected ${info.rejected.length} recipient(s)`);
  return { messageId: info.messageId, accepted: info.accepted.map(String) };
}

/** Closes the transport; the next getMailer() creates a new one. Only lib/platform/lifecycle calls this. */
export function closeMailer(): void {
  const t = transport;
  transport = undefined;
  t?.close();
}
