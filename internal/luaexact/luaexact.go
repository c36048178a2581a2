// Package luaexact holds the Lua helpers for exact integer arithmetic that the project's Redis scripts
// (mockserver's Redis store, redisquota) start with: num, which formats an integer for Redis without losing
// digits, and fdiv, an exact floor division.
package luaexact

import _ "embed"

// Source defines the local functions num and fdiv. Prepend it to a script that uses them.
//
//go:embed exact.lua
var Source string
