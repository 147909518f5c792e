/**
 * The appointments module's entry point for the edge and the tests: one import for every job,
 * while each job keeps a file of its own.
 */
export { createAppointment } from './booking';
export { rescheduleAppointment } from './rescheduling';
export { transitionAppointment } from './status';
export { getAppointment, listAppointments } from './queries';
export { toAppointmentDto, type AppointmentDto, type ClinicScope } from './dto';
export { isOverlapViolation } from './overlap';
