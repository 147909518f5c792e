import { sweepNoShows } from '../../domain/appointments/no-show';
import type { JobContext } from '../../platform/queues/context';

/** `appointments.no_show_sweep` (worker scheduler): appointments left open past their end become no-shows. */
export const processNoShowSweep = (_job: JobContext<'agenda', 'appointments.no_show_sweep'>) => sweepNoShows();
