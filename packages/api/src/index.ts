export * from "./annotations.js";
export * from "./gen/vcluster/api/v1/vcluster_api_pb.js";
