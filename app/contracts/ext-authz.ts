/**
 * The subset of Envoy's ext_authz v3 API that agentgateway uses, with the upstream field
 * numbers. Messages live in one package here; on the wire only field numbers and types count,
 * and the service's full name (envoy.service.auth.v3.Authorization) is what the gateway calls.
 * Kept as text in a module so the single-file bundle carries it. The gate serves this service
 * and the stand-in gateway calls it, so both load it from here.
 */
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import protobuf from 'protobufjs';

export const EXT_AUTHZ_PROTO = `syntax = "proto3";

package envoy.service.auth.v3;

service Authorization {
  rpc Check(CheckRequest) returns (CheckResponse);
}

message CheckRequest {
  AttributeContext attributes = 1;
}

message AttributeContext {
  message Peer {
    Address address = 1;
    string service = 2;
    map<string, string> labels = 3;
    string principal = 4;
    string certificate = 5;
  }
  message HttpRequest {
    string id = 1;
    string method = 2;
    map<string, string> headers = 3;
    string path = 4;
    string host = 5;
    string scheme = 6;
    string query = 7;
    string fragment = 8;
    int64 size = 9;
    string protocol = 10;
    string body = 11;
    bytes raw_body = 12;
  }
  message Request {
    HttpRequest http = 2;
  }
  Peer source = 1;
  Peer destination = 2;
  Request request = 4;
  map<string, string> context_extensions = 10;
  Metadata metadata_context = 11;
}

message Address {
  SocketAddress socket_address = 1;
}

message SocketAddress {
  string address = 2;
  uint32 port_value = 3;
}

message Metadata {
  map<string, Struct> filter_metadata = 1;
}

message Struct {
  map<string, Value> fields = 1;
}

message Value {
  oneof kind {
    int32 null_value = 1;
    double number_value = 2;
    string string_value = 3;
    bool bool_value = 4;
    Struct struct_value = 5;
    ListValue list_value = 6;
  }
}

message ListValue {
  repeated Value values = 1;
}

message Status {
  int32 code = 1;
  string message = 2;
}

message HttpStatus {
  int32 code = 1;
}

message HeaderValue {
  string key = 1;
  string value = 2;
}

message HeaderValueOption {
  HeaderValue header = 1;
}

message DeniedHttpResponse {
  HttpStatus status = 1;
  repeated HeaderValueOption headers = 2;
  string body = 3;
}

message OkHttpResponse {
  repeated HeaderValueOption headers = 2;
  repeated string headers_to_remove = 5;
  repeated HeaderValueOption response_headers_to_add = 6;
}

message CheckResponse {
  Status status = 1;
  oneof http_response {
    DeniedHttpResponse denied_response = 2;
    OkHttpResponse ok_response = 3;
  }
}
`;

const LOADER_OPTIONS = { keepCase: true, longs: Number, bytes: Buffer, defaults: true, oneofs: true } as const;

/** The Authorization service; its `.service` is what a server adds, and it constructs clients. */
export function authorizationService(): grpc.ServiceClientConstructor {
  const definition = fromJSON(protobuf.parse(EXT_AUTHZ_PROTO, { keepCase: true }).root.toJSON(), LOADER_OPTIONS);
  return (grpc.loadPackageDefinition(definition) as any).envoy.service.auth.v3.Authorization;
}
