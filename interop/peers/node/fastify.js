// A real @fastify/rate-limit server for the ratekit interop suite, started by peers_fastify.go on loopback.
//
//   node fastify.js PORT '{"routes":[{"path":"/a","limit":50,"windowMs":1000,"headers":"draft-spec"}]}'
//
// Each route has its own limiter (the plugin registered in an encapsulated context of its own, with its own
// LocalStore). "headers" is "default" (x-ratelimit-limit, -remaining, -reset and retry-after, the plugin's
// default) or "draft-spec" (enableDraftSpec: ratelimit-limit, -remaining, -reset and retry-after). Every
// route serves GET PATH/items; everything else about the limiter is the plugin's default (a fixed window per
// client IP from its first request, continueExceeding off, the 429 JSON error body).
'use strict'

const fastify = require('fastify')
const rateLimit = require('@fastify/rate-limit')

const port = Number(process.argv[2])
const config = JSON.parse(process.argv[3])

const app = fastify({ keepAliveTimeout: 60000 })

// The suite's start-up check: this process's pid, outside every limiter (no limiter is registered in the
// root context).
app.get('/__ready', async (_req, reply) => {
	reply.type('text/plain')
	return String(process.pid)
})

for (const route of config.routes) {
	if (route.headers !== 'default' && route.headers !== 'draft-spec') {
		throw new Error(`route ${route.path}: unknown headers ${JSON.stringify(route.headers)}`)
	}
	app.register(async (scope) => {
		await scope.register(rateLimit, {
			max: route.limit,
			timeWindow: route.windowMs,
			enableDraftSpec: route.headers === 'draft-spec',
		})
		scope.get(`${route.path}/items`, async (_req, reply) => {
			reply.type('text/plain')
			return 'ok\n'
		})
	})
}

app.listen({ port, host: '127.0.0.1' }).then(
	(address) => console.log(`listening on ${address}`),
	(err) => {
		console.error(err)
		process.exit(1)
	},
)
