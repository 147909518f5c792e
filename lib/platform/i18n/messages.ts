/**
 * Messages for people, by stable English code. pt-BR first (the clinics are Brazilian), English as
 * the fallback. Codes never change with the language; only `message` does.
 */
export const LOCALES = ['pt-BR', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

type Catalog = Record<string, string>;

const en: Catalog = {
  validation_failed: 'The request is invalid.',
  unauthorized: 'Missing or invalid credentials.',
  not_found: 'Not found.',
  conflict: 'The request conflicts with the current state.',
  slot_taken: 'That time is no longer available for this professional.',
  dependency_unavailable: 'The service is temporarily unavailable. Try again shortly.',
  timeout: 'The operation took too long.',
  internal_error: 'Internal server error.',
  configuration_invalid: 'The service is misconfigured.',
  rule_violated: 'The request breaks a scheduling rule.',
  outside_working_hours: "The time is outside the professional's working hours.",
  professional_time_off: 'The professional is away at that time.',
  invalid_transition: "The appointment's current status does not allow this.",
  control_exhausted: 'The session package has no sessions left.',
  control_expired: 'The session package has expired.',
  control_mismatch: 'The session package does not cover this appointment.',
  control_inactive: 'The session package is not active.',
  control_not_yet_valid: 'The session package is not valid yet on that date.',
  control_patient_mismatch: 'The session package belongs to another patient.',
  control_professional_mismatch: 'The session package is for another professional.',
  control_specialty_mismatch: 'The session package is for another specialty.',
  payload_too_large: 'The request body is too large.',
  unsupported_media_type: 'Send the request body as JSON (Content-Type: application/json).',
  starts_in_past: 'The appointment must start in the future.',
  professional_inactive: 'The professional is not taking appointments.',
  rate_limited: 'Too many requests. Slow down.',
  idempotency_key_reused: 'This Idempotency-Key was already used with a different request.',
  idempotency_in_progress: 'A request with this Idempotency-Key is still in progress.',
  patient_has_appointments:
    'The patient has appointments and cannot be deleted: anonymise them (POST /v1/patients/{id}/anonymize) or, when the record must be kept, block them (POST /v1/patients/{id}/block).',
  basis_not_allowed_for_health_data:
    'Legitimate interest (LGPD art. 7 IX) is not a legal basis for health data (art. 11): use consent, contract or health_protection.',
  patient_anonymized: "The patient was anonymised: their data can no longer be used or changed.",
  patient_blocked: 'The patient is blocked: their data is kept but cannot be used for new bookings.',
  insufficient_scope: 'This API key does not have the scope this request needs.',
  api_key_limit: 'The clinic has reached its limit of active API keys. Revoke one first.',
  rate_limited_key: 'Too many requests with this API key. Slow down.',
  rate_limited_clinic: "Too many requests from this clinic's API keys together. Slow down.",
};

const ptBR: Catalog = {
  validation_failed: 'A requisição é inválida.',
  unauthorized: 'Credenciais ausentes ou inválidas.',
  not_found: 'Não encontrado.',
  conflict: 'A requisição conflita com o estado atual.',
  slot_taken: 'Este horário não está mais disponível para este profissional.',
  dependency_unavailable: 'O serviço está temporariamente indisponível. Tente novamente em instantes.',
  timeout: 'A operação demorou demais.',
  internal_error: 'Erro interno do servidor.',
  configuration_invalid: 'O serviço está mal configurado.',
  rule_violated: 'A requisição viola uma regra de agendamento.',
  outside_working_hours: 'O horário está fora do expediente do profissional.',
  professional_time_off: 'O profissional está ausente neste horário.',
  invalid_transition: 'O status atual da consulta não permite esta ação.',
  control_exhausted: 'O pacote de sessões não tem mais sessões disponíveis.',
  control_expired: 'O pacote de sessões expirou.',
  control_mismatch: 'O pacote de sessões não cobre esta consulta.',
  control_inactive: 'O pacote de sessões não está ativo.',
  control_not_yet_valid: 'O pacote de sessões ainda não vale nesta data.',
  control_patient_mismatch: 'O pacote de sessões pertence a outro paciente.',
  control_professional_mismatch: 'O pacote de sessões é de outro profissional.',
  control_specialty_mismatch: 'O pacote de sessões é de outra especialidade.',
  payload_too_large: 'O corpo da requisição é grande demais.',
  unsupported_media_type: 'Envie o corpo da requisição como JSON (Content-Type: application/json).',
  starts_in_past: 'A consulta precisa começar no futuro.',
  professional_inactive: 'O profissional não está recebendo agendamentos.',
  rate_limited: 'Requisições demais. Aguarde um pouco.',
  idempotency_key_reused: 'Esta Idempotency-Key já foi usada com outra requisição.',
  idempotency_in_progress: 'Uma requisição com esta Idempotency-Key ainda está em andamento.',
  patient_has_appointments:
    'O paciente tem consultas e não pode ser excluído: anonimize-o (POST /v1/patients/{id}/anonymize) ou, quando o prontuário precisa ser guardado, bloqueie-o (POST /v1/patients/{id}/block).',
  basis_not_allowed_for_health_data:
    'Legítimo interesse (LGPD art. 7º IX) não é base legal para dados de saúde (art. 11): use consent, contract ou health_protection.',
  patient_anonymized: 'O paciente foi anonimizado: seus dados não podem mais ser usados nem alterados.',
  patient_blocked: 'O paciente está bloqueado: seus dados são mantidos, mas não podem ser usados em novos agendamentos.',
  insufficient_scope: 'Esta chave de API não tem o escopo que esta requisição exige.',
  api_key_limit: 'A clínica atingiu o limite de chaves de API ativas. Revogue uma antes.',
  rate_limited_key: 'Requisições demais com esta chave de API. Aguarde um pouco.',
  rate_limited_clinic: 'Requisições demais das chaves de API desta clínica somadas. Aguarde um pouco.',
};

const CATALOGS: Record<Locale, Catalog> = { 'pt-BR': ptBR, en };

/**
 * Picks the best supported locale from an Accept-Language header (q-values honoured, `pt` and
 * `pt-PT` map to pt-BR, `en-*` to en). Without a usable header: pt-BR.
 */
export function negotiateLocale(acceptLanguage: string | undefined): Locale {
  if (!acceptLanguage) return 'pt-BR';
  const ranked = acceptLanguage
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = Number(params.find((p) => p.trim().startsWith('q='))?.trim().slice(2) ?? '1');
      return { tag: tag.toLowerCase(), q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((r) => r.tag && r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranked) {
    if (tag === '*') return 'pt-BR';
    if (tag.startsWith('pt')) return 'pt-BR';
    if (tag.startsWith('en')) return 'en';
  }
  return 'pt-BR';
}

/** The message for a code in a locale, falling back to English, then to the code itself. */
export function message(code: string, locale: Locale): string {
  return CATALOGS[locale][code] ?? en[code] ?? code;
}
