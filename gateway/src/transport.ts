/**
 * Set by the OpenFaaS adapter (faas.ts) on every request it forwards: that transport sends whole bodies,
 * so the event stream answers in windows. A client sending it itself only gets the windowed behaviour.
 */
export const TRANSPORT_HEADER = 'x-weaver-transport';
