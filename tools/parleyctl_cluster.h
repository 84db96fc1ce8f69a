/* parleyctl_cluster — parleyctl's cluster commands against the cluster's Redis. */
#ifndef PARLEYCTL_CLUSTER_H
#define PARLEYCTL_CLUSTER_H

/* argv[0] is "cluster" or "node". Returns the exit status. */
int parleyctl_cluster(const char *url, int argc, char **argv);

#endif
