// Package contract holds the contract matrix: ratekit's Transport, told nothing, against every algorithm
// and dialect of mockserver and against mockserver's renderings of real limiters (contract_test.go,
// contract_realworld_test.go), and fleets sharing one quota (fleet_test.go). It lives in the harness
// module, with the helpers it shares with the examples (batch, oracle, scoreboard), so that the root
// module, which users import, depends on none of mockserver's dependencies. It has no API: its tests are
// the point.
package contract
