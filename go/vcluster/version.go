package vcluster

// Version is the SDK's version. It moves in lockstep with the npm packages of the
// repository (one Changesets fixed group); the module is tagged go/v<Version>.
const Version = "0.0.0"
