// Fleet and agent ids: each is one MQTT topic level (fm/<fleet>/a/<agent>/…), so no wildcards
// (+ #) or separators (/), and short enough for client ids and ACL files. The one definition;
// the topic builders, the codec, the broker's users file and the agent's options all use it.

export const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const ID_RULE = '1-64 characters of A-Z a-z 0-9 _ . -';

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}
