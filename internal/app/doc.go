// Package app wires tensionwatch's components into the three binaries:
// flags (each component's Config registers its own, with dotted names),
// logging, start-up validation, the HTTP server and orderly shutdown.
package app
