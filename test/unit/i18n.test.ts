import { message, negotiateLocale } from '../../lib/platform/i18n/messages';

describe('messages', () => {
  it('negotiates pt-BR or en from Accept-Language, pt-BR by default', () => {
    expect(negotiateLocale(undefined)).toBe('pt-BR');
    expect(negotiateLocale('en-US,en;q=0.9')).toBe('en');
    expect(negotiateLocale('fr-FR, en;q=0.5, pt;q=0.8')).toBe('pt-BR');
    expect(negotiateLocale('de, en-GB;q=0.1')).toBe('en');
    expect(negotiateLocale('de')).toBe('pt-BR');
    expect(negotiateLocale('pt-PT')).toBe('pt-BR');
  });

  it('translates by stable code and falls back to English, then the code', () => {
    expect(message('slot_taken', 'pt-BR')).toBe('Este horário não está mais disponível para este profissional.');
    expect(message('slot_taken', 'en')).toBe('That time is no longer available for this professional.');
    expect(message('no_such_code', 'pt-BR')).toBe('no_such_code');
  });
});

describe('catalogue coverage', () => {
  it('has a pt-BR and an English message for every rule the services can raise', () => {
    const { readFileSync, readdirSync, statSync } = require('node:fs') as typeof import('node:fs');
    const path = require('node:path') as typeof import('node:path');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const f of readdirSync(dir)) {
        const p = path.join(dir, f);
        if (statSync(p).isDirectory()) { if (f !== 'generated') walk(p); } else if (p.endsWith('.ts')) files.push(p);
      }
    };
    walk(path.join(__dirname, '..', '..', 'lib'));
    const rules = new Set(files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/RuleViolationError\(\s*'([a-z_]+)'/g)].map((m) => m[1]!)));
    expect(rules.size).toBeGreaterThan(5);
    for (const rule of rules) {
      expect([rule, message(rule, 'pt-BR')]).not.toEqual([rule, rule]);
      expect([rule, message(rule, 'en')]).not.toEqual([rule, rule]);
    }
  });
});
