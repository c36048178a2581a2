// A real express-rate-limit server for the ratekit interop suite, started by peers_node.go on loopback.
//
//   node server.js PORT '{"routes":[{"path":"/a","limit":50,"windowMs":1000,"headers":"draft-7"}]}'
//
// Each route has its own limiter (its own MemoryStore). "headers" is "legacy" (X-RateLimit-*, the
// library's default when standardHeaders is off) or one of the IETF drafts express-rate-limit supports
// ("draft-6", "draft-7", "draft-8"; legacy headers off). Every route serves GET PATH/items.
'use strict'

const express = require('express')
const { rateLimit } = require('express-rate-limit')

const port = Number(process.argv[2])
const config = JSON.parse(process.argv[3])

const app = express()
app.disable('x-powered-by')
app.disable('etag')

// The suite's start-up check: this process's pid, outside every limiter.
app.get('/__ready', (_req, res) => {
	res.type('text/plain').send(String(process.pid))
})

for (const route of config.routes) {
	const legacy = route.headers === 'legacy'
	app.use(
		route.path,
		rateLimit({
			windowMs: route.windowMs,
			limit: route.limit,
			standardHeaders: legacy ? false : route.headers,
			legacyHeaders: legacy,
			identifier: 'interop',
		}),
	)
	app.get(`${route.path}/items`, (_req, res) => {
		res.type('text/plain').send('ok\n')
	})
}

const server = app.listen(port, '127.0.0.1', () => {
	console.log(`listening on 127.0.0.1:${port}`)
})
server.keepAliveTimeout = 60000
