package interop

// AllPeers is every peer of the suite: the in-process Go libraries at every policy, then those that need a
// process (Redis, nginx, Node, Python) at the per-second policies.
func AllPeers() []Peer {
	ps := GoPeers()
	ps = append(ps, RedisPeers()...)
	ps = append(ps, NginxPeers()...)
	ps = append(ps, NodePeers()...)
	return append(ps, PythonPeers()...)
}
