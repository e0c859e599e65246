// Filters live in the URL as `<dimension>[<operator>]=<value>` (the API's own syntax), so a
// filtered view can be bookmarked and shared, and the parameters pass straight to the API.

export interface Dimension {
  key: string;
  label: string;
  placeholder: string;
}

export const DIMENSIONS: Dimension[] = [
  { key: 'path', label: 'Path', placeholder: 'e.g. /blog' },
  { key: 'referrer', label: 'Referrer', placeholder: 'e.g. example.com' },
  { key: 'utm_source', label: 'UTM Source', placeholder: 'e.g. google' },
  { key: 'utm_medium', label: 'UTM Medium', placeholder: 'e.g. cpc' },
  { key: 'utm_campaign', label: 'UTM Campaign', placeholder: 'e.g. summer_sale' },
  { key: 'browser', label: 'Browser', placeholder: 'e.g. Chrome' },
  { key: 'os', label: 'OS', placeholder: 'e.g. Windows' },
  { key: 'device', label: 'Device', placeholder: 'e.g. Desktop' },
  { key: 'country', label: 'Country', placeholder: 'e.g. United States' },
  { key: 'language', label: 'Language', placeholder: 'e.g. English' },
  { key: 'prop_name', label: 'Property Name', placeholder: 'e.g. logged_in' },
  { key: 'prop_value', label: 'Property Value', placeholder: 'e.g. true' },
];

export interface Operator {
  key: string;
  label: string;
}

export const OPERATORS: Operator[] = [
  { key: 'eq', label: 'is' },
  { key: 'neq', label: 'is not' },
  { key: 'contains', label: 'contains' },
  { key: 'not_contains', label: 'does not contain' },
  { key: 'starts_with', label: 'starts with' },
  { key: 'not_starts_with', label: 'does not start with' },
  { key: 'ends_with', label: 'ends with' },
  { key: 'not_ends_with', label: 'does not end with' },
  { key: 'in', label: 'is one of' },
  { key: 'not_in', label: 'is none of' },
];

export interface Filter {
  dim: string;
  op: string;
  value: string;
}

const PARAM = /^([a-z_]+)\[([a-z_]+)\]$/;
const DIM_KEYS = new Set(DIMENSIONS.map((d) => d.key));
const OP_KEYS = new Set(OPERATORS.map((o) => o.key));

export function paramName(filter: Pick<Filter, 'dim' | 'op'>): string {
  return `${filter.dim}[${filter.op}]`;
}

export function readFilters(search: URLSearchParams): Filter[] {
  const filters: Filter[] = [];
  for (const [name, value] of search) {
    const match = PARAM.exec(name);
    if (match && DIM_KEYS.has(match[1]) && OP_KEYS.has(match[2])) filters.push({ dim: match[1], op: match[2], value });
  }
  return filters;
}

export function dimensionLabel(key: string): string {
  return DIMENSIONS.find((d) => d.key === key)?.label ?? key;
}

export function operatorLabel(key: string): string {
  return OPERATORS.find((o) => o.key === key)?.label ?? key;
}

/** The URL search with one more filter; an exact duplicate changes nothing. */
export function addFilter(search: URLSearchParams, filter: Filter): URLSearchParams {
  const next = new URLSearchParams(search);
  const name = paramName(filter);
  if (!next.getAll(name).includes(filter.value)) next.append(name, filter.value);
  return next;
}

/** The URL search without exactly this filter (other values of the same key stay). */
export function removeFilter(search: URLSearchParams, filter: Filter): URLSearchParams {
  const next = new URLSearchParams();
  let removed = false;
  for (const [name, value] of search) {
    if (!removed && name === paramName(filter) && value === filter.value) {
      removed = true;
      continue;
    }
    next.append(name, value);
  }
  return next;
}

export function hasEq(filters: Filter[], dim: string): boolean {
  return filters.some((f) => f.dim === dim && f.op === 'eq');
}
