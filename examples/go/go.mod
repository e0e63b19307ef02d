module github.com/open-vcluster/open-vcluster/examples/go

go 1.26.0

require (
	connectrpc.com/connect v1.21.1
	github.com/open-vcluster/open-vcluster/go v0.0.0
)

require (
	golang.org/x/oauth2 v0.38.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

// The example builds against the SDK in this repository; outside it, drop this line and
// require a released version (go get github.com/open-vcluster/open-vcluster/go@latest).
replace github.com/open-vcluster/open-vcluster/go => ../../go
