/**
 * The session packages' entry point for the package routes and for booking (sessions spent and
 * given back), while each job keeps a file of its own; renewal has its own (renewal.ts).
 */
export { createControl, getControl, listControls, resolveValidUntil } from './controls';
export { toControlDto, type ControlDto } from './dto';
export { assertControlApplies, consumeSession, releaseSession, type ConsumeContext } from './sessions';
