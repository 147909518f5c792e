/** What decides, per patient and channel, whether a notice may go out at all (LGPD). */
export interface PatientGate {
  anonymized: boolean;
  blocked: boolean;
  /** The channel's latest consent record is a grant. */
  consentGranted: boolean;
}

/**
 * Why no notice may go out to this patient on this channel now, or null: anonymised (no contact
 * left), blocked (data kept, not used), or no granted legal basis for the channel (`no_consent`).
 * One rule for every channel, applied at send time (e-mail) and delivery time (in-app).
 */
export function gateReason(p: PatientGate): 'anonymized' | 'blocked' | 'no_consent' | null {
  if (p.anonymized) return 'anonymized';
  if (p.blocked) return 'blocked';
  return p.consentGranted ? null : 'no_consent';
}
