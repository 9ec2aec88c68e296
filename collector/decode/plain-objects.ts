// Objects the decoder fills property by property: a flow gets 15–20 properties, an endpoint up
// to 8 once enriched. An object literal holds only the properties it is written with inside the
// object; the others go into an out-of-line array that V8 reallocates and copies every three
// properties (about 600 bytes of garbage per flow, a quarter of what a record allocated). An
// object made by a constructor gets room inside itself for the properties its first instances
// end up with. The constructors' prototype is Object.prototype, so what they make are plain
// objects to every reader (`assert.deepStrictEqual` and `Object.getPrototypeOf` included).
import type { Endpoint, Flow } from '../../proto/types.js';

function FlowObject(this: Flow): void {
  // Properties are added by the decoder.
}
FlowObject.prototype = Object.prototype;

function EndpointObject(this: Endpoint): void {
  // Properties are added by the decoder and the enricher.
}
EndpointObject.prototype = Object.prototype;

/** An empty Flow with room for a decoded flow's properties. */
export function newFlow(): Flow {
  return new (FlowObject as unknown as new () => Flow)();
}

/** An empty Endpoint with room for an enriched endpoint's properties. */
export function newEndpoint(): Endpoint {
  return new (EndpointObject as unknown as new () => Endpoint)();
}
