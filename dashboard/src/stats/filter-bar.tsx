// "Add filter" and the active filter chips. Filters are URL parameters, so this component only
// edits the address; the page reloads its data from there.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { CloseIcon, PlusIcon } from '../components/icons';
import { Field, Modal } from '../components/ui';
import {
  addFilter,
  DIMENSIONS,
  dimensionLabel,
  type Filter,
  OPERATORS,
  operatorLabel,
  removeFilter,
} from '../filters';
import { getLocation, navigate, withQuery } from '../router';

export function applyFilter(filter: Filter): void {
  const { path, search } = getLocation();
  navigate(withQuery(path, addFilter(search, filter)), { keepScroll: true });
}

function dropFilter(filter: Filter): void {
  const { path, search } = getLocation();
  navigate(withQuery(path, removeFilter(search, filter)), { keepScroll: true });
}

function showValue(filter: Filter): string {
  if (filter.value === '') return 'Direct / None';
  return filter.value;
}

function NewFilter({ open, onClose }: { open: boolean; onClose: () => void }): JSX.Element {
  const [dim, setDim] = useState('path');
  const [op, setOp] = useState('eq');
  const [value, setValue] = useState('');
  const placeholder = DIMENSIONS.find((d) => d.key === dim)?.placeholder ?? '';
  const list = op === 'in' || op === 'not_in';

  const close = (): void => {
    setDim('path');
    setOp('eq');
    setValue('');
    onClose();
  };

  const submit = (event: Event): void => {
    event.preventDefault();
    const cleaned = list
      ? value
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean)
          .join(',')
      : value.trim();
    if (!cleaned) return;
    close();
    applyFilter({ dim, op, value: cleaned });
  };

  return (
    <Modal open={open} title="New filter" description="Show only the visits that match." onClose={close}>
      <form onSubmit={submit} class="filter-form">
        <div class="filter-form-row">
          <Field label="Field">
            {({ id }) => (
              <select id={id} value={dim} onChange={(e) => setDim(e.currentTarget.value)}>
                {DIMENSIONS.map((d) => (
                  <option key={d.key} value={d.key}>
                    {d.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Condition">
            {({ id }) => (
              <select id={id} value={op} onChange={(e) => setOp(e.currentTarget.value)}>
                {OPERATORS.map((o) => (
                  <option key={o.key} value={o.key}>
                    {o.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <Field label="Value" hint={list ? 'Separate several values with commas.' : 'Matching ignores upper and lower case.'}>
          {({ id, describedBy }) => (
            <input
              id={id}
              value={value}
              placeholder={list ? `${placeholder}, …` : placeholder}
              onInput={(e) => setValue(e.currentTarget.value)}
              aria-describedby={describedBy}
              autocomplete="off"
              autofocus
            />
          )}
        </Field>
        <div class="form-actions">
          <button type="button" class="button" onClick={close}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={!value.trim()}>
            Apply filter
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function FilterBar({ filters }: { filters: Filter[] }): JSX.Element {
  const [open, setOpen] = useState(false);
  return (
    <div class="filter-bar">
      <button type="button" class="button button-small" onClick={() => setOpen(true)}>
        <PlusIcon />
        Add filter
      </button>
      {filters.length > 0 && (
        <ul class="chips" aria-label="Active filters">
          {filters.map((f) => {
            const text = `${dimensionLabel(f.dim)} ${operatorLabel(f.op)} ${showValue(f)}`;
            return (
              <li key={`${f.dim}[${f.op}]=${f.value}`} class="chip" data-testid="filter-chip">
                <span>
                  {dimensionLabel(f.dim)} <em>{operatorLabel(f.op)}</em> <strong>{showValue(f)}</strong>
                </span>
                <button type="button" class="chip-remove" aria-label={`Remove filter: ${text}`} onClick={() => dropFilter(f)}>
                  <CloseIcon size={14} />
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <NewFilter open={open} onClose={() => setOpen(false)} />
    </div>
  );
}
