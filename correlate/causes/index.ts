import type { CauseModule } from '../context.ts';
import { externalKill } from './external-kill.ts';
import { eviction, hostShutdown, preemption, probeFailure } from './kubelet.ts';
import { normalExit } from './normal-exit.ts';
import { oomKill } from './oom-kill.ts';
import { runtimeRestart } from './runtime-restart.ts';
import { shimDeath } from './shim-death.ts';
import { stopTimeout } from './stop-timeout.ts';
import { stuckKill } from './stuck-kill.ts';

/** Every cause the engine weighs. A new cause is a new module in this folder and one entry here. */
export const CAUSE_MODULES: CauseModule[] = [shimDeath, oomKill, stopTimeout, externalKill, probeFailure, eviction, preemption, runtimeRestart, hostShutdown, stuckKill, normalExit];
