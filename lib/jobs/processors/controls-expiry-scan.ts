import { scanExpiringControls } from '../../domain/session-packages/expiring-scan';
import type { JobContext } from '../../platform/queues/context';

/** `controls.expiry_scan` (worker scheduler): one `control.expiring` event per package ending soon. */
export const processControlsExpiryScan = (_job: JobContext<'agenda', 'controls.expiry_scan'>) => scanExpiringControls();
