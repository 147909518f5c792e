/**
 * The channels a patient can be reached on and the LGPD legal bases a clinic may record for them.
 * Every channel carries health data (that a person is a clinic's patient, when their appointments
 * are), so only bases valid for sensitive data (art. 11) are accepted.
 */

/** Each channel has its own consent; `whatsapp` is recorded now, sent on by issue 13's channel. */
export const CONSENT_CHANNELS = ['email', 'in_app', 'whatsapp'] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

/** Granted: notices may go out on the channel; revoked: they are skipped (`no_consent`). */
export const CONSENT_STATUSES = ['granted', 'revoked'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

/** Who made the decision the actor recorded: the clinic on its own basis, or the patient. */
export const CONSENT_SOURCES = ['clinic', 'patient'] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];

/**
 * Every basis code the API understands, with the LGPD articles it stands for. `legitimate_interest`
 * is listed so a request naming it is understood and refused with a reason (422), not a 400.
 */
export const LEGAL_BASES = {
  consent: { articles: 'LGPD art. 7 I / art. 11 I', sensitiveData: true },
  contract: { articles: 'LGPD art. 7 V / art. 11 II d', sensitiveData: true },
  health_protection: { articles: 'LGPD art. 11 II f', sensitiveData: true },
  legitimate_interest: { articles: 'LGPD art. 7 IX', sensitiveData: false },
} as const;
export type LegalBasis = keyof typeof LEGAL_BASES;
export const LEGAL_BASIS_CODES = Object.keys(LEGAL_BASES) as [LegalBasis, ...LegalBasis[]];

/** Channels that carry health data: all of them, so art. 7-only bases never apply. */
export const carriesHealthData = (_channel: ConsentChannel) => true;

/**
 * The basis a patient row's flags stand for when nobody named one (creation, PATCH, the backfill):
 * appointment notices from a clinic to its patient are part of care by a health service (art. 11
 * II f). The migration's trigger uses the same default.
 */
export const DEFAULT_FLAG_BASIS: LegalBasis = 'health_protection';
