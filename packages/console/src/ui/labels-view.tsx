/** Labels as compact key=value chips. */
export function LabelsView(props: { labels: Record<string, string>; limit?: number }) {
  const entries = Object.entries(props.labels).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <span class="muted">—</span>;
  const shown = props.limit === undefined ? entries : entries.slice(0, props.limit);
  return (
    <span class="labels">
      {shown.map(([key, value]) => (
        <span key={key} class="label-chip" title={`${key}=${value}`}>
          {key}={value}
        </span>
      ))}
      {shown.length < entries.length ? <span class="muted">+{entries.length - shown.length}</span> : null}
    </span>
  );
}
