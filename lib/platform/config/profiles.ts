import { VARIABLES } from './schema';
import { PROFILES, type Profile } from './variable';

export { PROFILES, type Profile } from './variable';

/**
 * Every fixed default under each profile, as an environment would hold it: for tools that reason
 * about a deployment from its serverless.yml without parsing a whole environment (npm run budget).
 */
export const PROFILE_DEFAULTS: Readonly<Record<Profile, Readonly<Record<string, string>>>> = Object.fromEntries(
  PROFILES.map((profile) => [
    profile,
    Object.fromEntries(
      VARIABLES.flatMap(({ variable: v }) => {
        // The profile's own row is the profile, not a default of it.
        const value = v.name === 'AGENDA_PROFILE' ? profile : typeof v.fallback === 'function' ? undefined : v.defaultFor(profile, {});
        return value === undefined ? [] : [[v.name, value]];
      }),
    ),
  ]),
) as Record<Profile, Record<string, string>>;
