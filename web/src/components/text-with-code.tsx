/** Text whose `backticked` parts are code, as the API's descriptions are written. */
export function TextWithCode({ text }: { text: string }) {
  const parts = text.split('`');
  // An unpaired backtick stays as typed.
  if (parts.length % 2 === 0) return <>{text}</>;
  return <>{parts.map((part, i) => (i % 2 ? <code key={i}>{part}</code> : part))}</>;
}
