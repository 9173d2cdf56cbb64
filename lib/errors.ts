// One registry of typed error codes (AREA_REASON). Library code throws RackforgeError;
// only the edges (XML-RPC faults, HTTP statuses, CLI exit lines) translate them.

export const ERROR_CODES = {
  // XML-RPC wire
  XMLRPC_MALFORMED: 'the request body is not a well-formed XML-RPC methodCall',
  XMLRPC_TOO_LARGE: 'the request body exceeds the size limit',
  XMLRPC_TOO_DEEP: 'the request nests values too deeply',
  XMLRPC_BAD_VALUE: 'a value in the request cannot be decoded',
  // API dispatch
  API_UNKNOWN_METHOD: 'no such remote method',
  API_FORBIDDEN_METHOD: 'the method may not be called remotely',
  API_ARGUMENTS: 'wrong number or type of arguments',
  API_LOGIN_FAILED: 'login failed',
  API_INVALID_TOKEN: 'the token is missing, invalid or expired',
  API_UNKNOWN_HANDLE: 'the object handle is unknown or expired',
  API_UNKNOWN_EVENT: 'no event with that id',
  API_ACCESS_DENIED: 'the user may not do this',
  // Inventory
  ITEM_NOT_FOUND: 'no such object',
  ITEM_EXISTS: 'an object with that name already exists',
  ITEM_INVALID_FIELD: 'the field value is invalid',
  ITEM_UNKNOWN_FIELD: 'the object has no such field',
  ITEM_MISSING_REFERENCE: 'the object refers to something that does not exist',
  ITEM_DUPLICATE: 'another system already uses that MAC, IP address or hostname',
  ITEM_HAS_CHILDREN: 'the object has children and recursive is not set',
  ITEM_INTERFACE: 'the interface operation is invalid',
  // Autoinstall templates
  TEMPLATE_NOT_FOUND: 'no autoinstall template or snippet with that name',
  TEMPLATE_MISSING_VARIABLE: 'the template uses a variable that has no value',
  TEMPLATE_INVALID: 'the template cannot be parsed or uses an unknown tag or filter',
  TEMPLATE_LIMIT: 'rendering the template exceeded a size, time or include limit',
  // Store
  STORE_CONFLICT: 'the store refused a conflicting write',
  STORE_CORRUPT: 'the store holds data it cannot read',
  STORE_MIGRATION: 'the store schema is newer than this program',
  // CLI / config
  CLI_USAGE: 'the command line is invalid',
  CLI_SERVER: 'the server could not be reached or answered an error',
  CONFIG_INVALID: 'the configuration is invalid',
  // TFTP sources
  TFTP_ACCESS_VIOLATION: 'the name exists but may not be served',
  TFTP_NOT_FOUND: 'no file by that name',
  // Lab simulator
  LAB_INVALID: 'the lab definition is invalid',
  LAB_NOT_RUNNING: 'the lab is not up',
  LAB_ALREADY_RUNNING: 'the lab is already up',
  LAB_START_FAILED: 'the lab could not be brought up',
  LAB_UNKNOWN_NODE: 'the lab has no node by that name',
  LAB_UNKNOWN_NETWORK: 'the lab has no network by that name',
  LAB_NODE_STATE: 'the machine is not in a power state that allows this',
  LAB_HOST: 'this machine lacks something the lab needs',
  // Capture analysis
  CAPTURE_READ: 'the capture file cannot be opened or read',
  // Controller
  CONTROLLER_BAD_REQUEST: 'the request body or one of its fields is invalid',
  CONTROLLER_TOO_LARGE: 'the request body exceeds the size limit',
  CONTROLLER_MEDIA_TYPE: 'the request body is not application/json',
  CONTROLLER_UNAUTHENTICATED: 'the credential or API token is missing or wrong',
  CONTROLLER_UNKNOWN_SYSTEM: 'the provisioner has no system by that name',
  CONTROLLER_MAC_MISMATCH: "none of the MACs is one of the system's interface MACs",
  CONTROLLER_NO_INSTALL: 'no install token was ever issued for the system',
  CONTROLLER_FOREIGN_TOKEN: "the token is not the one issued for the system's install",
  CONTROLLER_REPLAYED_TOKEN: 'the token has already been used to register',
  CONTROLLER_NOT_FOUND: 'no such hypervisor or path',
  CONTROLLER_METHOD: 'the path does not answer that method',
  CONTROLLER_INTERNAL: 'the controller failed to answer; see the server log',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

// A registered symbol rather than instanceof alone: a test runner's loader can evaluate this
// module twice (a static import and a dynamic one), and an error from one copy must still be
// recognised by the other.
const RACKFORGE_ERROR = Symbol.for('rackforge.RackforgeError');

export class RackforgeError extends Error {
  readonly [RACKFORGE_ERROR] = true;
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: ErrorCode, message?: string, details: Record<string, unknown> = {}) {
    super(message ?? ERROR_CODES[code]);
    this.name = 'RackforgeError';
    this.code = code;
    this.details = details;
  }
}

export function isRackforgeError(e: unknown, code?: ErrorCode): e is RackforgeError {
  return typeof e === 'object' && e !== null && (e as { [RACKFORGE_ERROR]?: unknown })[RACKFORGE_ERROR] === true
    && (code === undefined || (e as RackforgeError).code === code);
}

/** A codec's refusal: which field, at which byte offset (or character position for text). */
export class DecodeError extends Error {
  readonly code: string;
  readonly field: string;
  readonly offset: number;
  constructor(code: string, field: string, offset: number, message: string) {
    super(`${message} (${field} at offset ${offset})`);
    this.name = 'DecodeError';
    this.code = code;
    this.field = field;
    this.offset = offset;
  }
}
