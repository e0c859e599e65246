// Small stroke icons drawn for this dashboard. All are decorative (aria-hidden); the
// controls that use them carry their own text or aria-label.
import type { JSX } from 'preact';

function Icon({ children, size = 18 }: { children: JSX.Element | JSX.Element[]; size?: number }): JSX.Element {
  return (
    <svg
      class="icon"
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {children}
    </svg>
  );
}

export const LogoMark = (): JSX.Element => (
  <svg class="logo-mark" width="26" height="26" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
    <rect width="32" height="32" rx="8" fill="#24406e" />
    <rect x="7" y="16" width="4" height="9" rx="2" fill="#9fc3ff" />
    <rect x="14" y="10" width="4" height="15" rx="2" fill="#dbe8ff" />
    <rect x="21" y="6" width="4" height="19" rx="2" fill="#fff" />
  </svg>
);

export const PlusIcon = (): JSX.Element => (
  <Icon>
    <path d="M12 5v14M5 12h14" />
  </Icon>
);

export const CloseIcon = ({ size }: { size?: number }): JSX.Element => (
  <Icon size={size}>
    <path d="M6 6l12 12M18 6L6 18" />
  </Icon>
);

export const MenuIcon = (): JSX.Element => (
  <Icon size={22}>
    <path d="M4 7h16M4 12h16M4 17h16" />
  </Icon>
);

export const CalendarIcon = (): JSX.Element => (
  <Icon size={16}>
    <rect x="3.5" y="5" width="17" height="15" rx="2" />
    <path d="M3.5 10h17M8 3v4M16 3v4" />
  </Icon>
);

export const LogoutIcon = (): JSX.Element => (
  <Icon size={16}>
    <path d="M15 4h3a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3M10 16l-4-4 4-4M6 12h10" />
  </Icon>
);

export const ExternalIcon = (): JSX.Element => (
  <Icon size={14}>
    <path d="M14 4h6v6M20 4l-9 9M18 14v4a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h4" />
  </Icon>
);

export const CopyIcon = (): JSX.Element => (
  <Icon size={16}>
    <rect x="8" y="8" width="12" height="12" rx="2" />
    <path d="M16 8V6a2 2 0 0 0-2-2H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h2" />
  </Icon>
);

export const CheckIcon = ({ size = 16 }: { size?: number }): JSX.Element => (
  <Icon size={size}>
    <path d="M5 12.5l4.5 4.5L19 7.5" />
  </Icon>
);

export const AreaIcon = (): JSX.Element => (
  <Icon size={16}>
    <path d="M3 19l5-7 4 3 5-8 4 5v7H3z" />
  </Icon>
);

export const BarIcon = (): JSX.Element => (
  <Icon size={16}>
    <path d="M5 20V11M10 20V5M15 20v-7M20 20V8" />
  </Icon>
);

export const ArrowLeftIcon = (): JSX.Element => (
  <Icon size={16}>
    <path d="M19 12H5M11 6l-6 6 6 6" />
  </Icon>
);

export const ChevronLeftIcon = (): JSX.Element => (
  <Icon size={16}>
    <path d="M15 6l-6 6 6 6" />
  </Icon>
);

export const ChevronRightIcon = (): JSX.Element => (
  <Icon size={16}>
    <path d="M9 6l6 6-6 6" />
  </Icon>
);

export const EyeIcon = ({ off }: { off?: boolean }): JSX.Element => (
  <Icon size={18}>
    <path d="M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12z" />
    <circle cx="12" cy="12" r="3" />
    {off ? <path d="M4 4l16 16" /> : <path d="M0 0" />}
  </Icon>
);

export const SortIcon = ({ dir }: { dir: 'asc' | 'desc' | 'none' }): JSX.Element => (
  <Icon size={14}>
    {dir === 'asc' ? <path d="M6 15l6-6 6 6" /> : dir === 'desc' ? <path d="M6 9l6 6 6-6" /> : <path d="M8 9l4-4 4 4M8 15l4 4 4-4" />}
  </Icon>
);

export const InfoIcon = (): JSX.Element => (
  <Icon size={16}>
    <circle cx="12" cy="12" r="9" />
    <path d="M12 11v5M12 8h.01" />
  </Icon>
);
