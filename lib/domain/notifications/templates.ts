import type { DateTime } from 'luxon';
import { localTime } from '../tenancy/zone';

export const NOTIFICATION_KINDS = ['confirmation', 'reminder', 'cancellation', 'reschedule', 'renewal'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
export type TemplateLocale = 'pt-BR' | 'en';

/** What a template may show. Patient data ends up only in the rendered e-mail, never in jobs or logs. */
export interface TemplateData {
  kind: NotificationKind;
  locale: string;
  timeZone: string;
  clinicName: string;
  patientName: string;
  professionalName?: string | null;
  /** The appointment's start (absent for renewal notices). */
  startsAt?: Date | null;
  /** Reminders: minutes before the appointment. */
  offsetMinutes?: number | null;
  /** Renewal notices: the package's end and usage. */
  validUntil?: Date | null;
  sessionsUsed?: number | null;
  sessionsTotal?: number | null;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** pt-BR for Portuguese (the default), English for everything else (the fallback). */
export function templateLocale(locale: string | null | undefined): TemplateLocale {
  if (!locale) return 'pt-BR';
  return locale.toLowerCase().startsWith('pt') ? 'pt-BR' : 'en';
}

const local = (at: Date, zone: string, locale: TemplateLocale): DateTime => localTime(at, zone).setLocale(locale);

/** "terça-feira, 10 de março de 2026 às 14:30" / "Tuesday, March 10, 2026 at 2:30 PM", in the clinic's zone. */
export function formatDateTime(at: Date, zone: string, locale: TemplateLocale): string {
  const dt = local(at, zone, locale);
  return locale === 'pt-BR' ? dt.toFormat("cccc, d 'de' LLLL 'de' yyyy 'às' HH:mm") : dt.toFormat("cccc, LLLL d, yyyy 'at' h:mm a");
}

/** "10 de março de 2026" / "March 10, 2026". */
export function formatDate(at: Date, zone: string, locale: TemplateLocale): string {
  const dt = local(at, zone, locale);
  return locale === 'pt-BR' ? dt.toFormat("d 'de' LLLL 'de' yyyy") : dt.toFormat('LLLL d, yyyy');
}

function formatOffset(minutes: number, locale: TemplateLocale): string {
  const hours = minutes / 60;
  if (Number.isInteger(hours) && hours >= 24 && hours % 24 === 0) {
    const d = hours / 24;
    return locale === 'pt-BR' ? `${d} ${d === 1 ? 'dia' : 'dias'}` : `${d} ${d === 1 ? 'day' : 'days'}`;
  }
  if (Number.isInteger(hours)) return locale === 'pt-BR' ? `${hours} ${hours === 1 ? 'hora' : 'horas'}` : `${hours} ${hours === 1 ? 'hour' : 'hours'}`;
  return locale === 'pt-BR' ? `${minutes} minutos` : `${minutes} minutes`;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

interface Body {
  subject: string;
  greeting: string;
  lines: string[];
  signature: string;
}

function body(d: TemplateData, l: TemplateLocale): Body {
  const pt = l === 'pt-BR';
  const when = d.startsAt ? formatDateTime(d.startsAt, d.timeZone, l) : '';
  const pro = d.professionalName ?? (pt ? 'o profissional' : 'your professional');
  const greeting = pt ? `Olá, ${d.patientName}.` : `Hello, ${d.patientName}.`;
  const signature = d.clinicName;
  switch (d.kind) {
    case 'confirmation':
      return pt
        ? { subject: `Consulta agendada: ${when}`, greeting, signature, lines: [`Sua consulta com ${pro} na ${d.clinicName} está agendada para ${when}.`, 'Se não puder comparecer, avise a clínica com antecedência.'] }
        : { subject: `Appointment booked: ${when}`, greeting, signature, lines: [`Your appointment with ${pro} at ${d.clinicName} is booked for ${when}.`, "If you can't make it, please let the clinic know in advance."] };
    case 'reminder': {
      const inTime = d.offsetMinutes ? formatOffset(d.offsetMinutes, l) : '';
      return pt
        ? { subject: `Lembrete: consulta ${when}`, greeting, signature, lines: [`Lembrete: sua consulta com ${pro} na ${d.clinicName} é ${when}${inTime ? ` (em ${inTime})` : ''}.`] }
        : { subject: `Reminder: appointment ${when}`, greeting, signature, lines: [`Reminder: your appointment with ${pro} at ${d.clinicName} is on ${when}${inTime ? ` (in ${inTime})` : ''}.`] };
    }
    case 'cancellation':
      return pt
        ? { subject: `Consulta cancelada: ${when}`, greeting, signature, lines: [`Sua consulta com ${pro} na ${d.clinicName} marcada para ${when} foi cancelada.`, 'Para remarcar, entre em contato com a clínica.'] }
        : { subject: `Appointment cancelled: ${when}`, greeting, signature, lines: [`Your appointment with ${pro} at ${d.clinicName} on ${when} has been cancelled.`, 'To book again, please contact the clinic.'] };
    case 'reschedule':
      return pt
        ? { subject: `Consulta remarcada: ${when}`, greeting, signature, lines: [`Sua consulta com ${pro} na ${d.clinicName} foi remarcada para ${when}.`] }
        : { subject: `Appointment rescheduled: ${when}`, greeting, signature, lines: [`Your appointment with ${pro} at ${d.clinicName} has been moved to ${when}.`] };
    case 'renewal': {
      const until = d.validUntil ? formatDate(d.validUntil, d.timeZone, l) : '';
      const usage = d.sessionsTotal != null && d.sessionsUsed != null ? `${d.sessionsUsed}/${d.sessionsTotal}` : '';
      const details = (parts: (string | false)[]) => {
        const s = parts.filter(Boolean).join(', ');
        return s ? ` (${s})` : '';
      };
      return pt
        ? { subject: `Renovação do seu pacote de sessões na ${d.clinicName}`, greeting, signature, lines: [`Seu pacote de sessões com ${pro} precisa ser renovado${details([!!usage && `${usage} sessões usadas`, !!until && `válido até ${until}`])}.`, 'Entre em contato com a clínica para renová-lo.'] }
        : { subject: `Your session package at ${d.clinicName} needs renewal`, greeting, signature, lines: [`Your session package with ${pro} needs renewing${details([!!usage && `${usage} sessions used`, !!until && `valid until ${until}`])}.`, 'Please contact the clinic to renew it.'] };
    }
  }
}

/** Subject, plain text and a simple HTML version of one notice, in the patient's language. */
export function renderNotification(d: TemplateData): RenderedMail {
  const l = templateLocale(d.locale);
  const b = body(d, l);
  const text = [b.greeting, '', ...b.lines, '', b.signature, ''].join('\n');
  const html =
    `<!doctype html><html lang="${l}"><body>` +
    `<p>${escapeHtml(b.greeting)}</p>` +
    b.lines.map((line) => `<p>${escapeHtml(line)}</p>`).join('') +
    `<p>${escapeHtml(b.signature)}</p></body></html>`;
  return { subject: b.subject, text, html };
}
