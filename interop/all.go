package interop

// AllPeers is every peer of the suite: the in-process Go libraries at every policy, then those that need a
// process (Redis, nginx, HAProxy, Node: express-rate-limit, then @fastify/rate-limit; Python) at the
// per-second policies.
func AllPeers() []Peer {
	ps := GoPeers()
	ps = append(ps, RedisPeers()...)
	ps = append(ps, NginxPeers()...)
	ps = append(ps, HAProxyPeers()...)
	ps = append(ps, NodePeers()...)
	ps = append(ps, FastifyPeers()...)
	return append(ps, PythonPeers()...)
}
