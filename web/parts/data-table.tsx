import type { ComponentChildren } from "preact";

/**
 * A table in a box that scrolls sideways on narrow screens (200 % zoom) while
 * the page does not: the box is a labelled region that takes the keyboard's
 * focus, so it can be scrolled without a mouse. `rows` are the body's rows.
 */
export function DataTable({ label, columns, class: className, rows }: { label: string; columns: readonly string[]; class?: string; rows: ComponentChildren }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={`${label} (scrolls sideways on narrow screens)`}>
      <table class={className}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{rows}</tbody>
      </table>
    </div>
  );
}
