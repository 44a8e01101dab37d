// rapidcheck generators for scenarios: fault plans and register scenarios, which shrink
// toward fewer, earlier and simpler faults and smaller workloads.
//
//   RC_GTEST_PROP(Register, SameSeedSamePlanSameFingerprint, ()) {
//     const RegisterScenario s = *GenRegisterScenario();
//     RC_ASSERT(RunRegister(s, {}).fingerprint == RunRegister(s, {}).fingerprint);
//   }
#ifndef HINDCAST_PROPERTIES_GENERATORS_H_
#define HINDCAST_PROPERTIES_GENERATORS_H_

#include <rapidcheck.h>

#include "properties/cluster_run.h"
#include "properties/register_run.h"
#include "sim/fault_plan.h"

namespace hindcast::properties {

// A plan of up to `actions_max` actions within `horizon` over servers [0, servers) and
// all nodes [0, nodes).
rc::Gen<sim::FaultPlan> GenFaultPlan(int servers, int nodes, sim::Duration horizon,
                                     int actions_max);

// A scenario of the demo register with an explicit generated fault plan.
rc::Gen<RegisterScenario> GenRegisterScenario(bool bug);

// `base` (workload, isolation, mode, bugs, CNs) with a generated seed, 1-3 clients, 1-20
// transactions each and an explicit fault plan of up to 15 actions over the cluster's
// servers in its first 2 simulated seconds.
rc::Gen<ClusterScenario> GenClusterScenario(const ClusterScenario& base);

}  // namespace hindcast::properties

#endif  // HINDCAST_PROPERTIES_GENERATORS_H_
