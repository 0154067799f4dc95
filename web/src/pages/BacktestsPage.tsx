export default function BacktestsPage(_p: Record<string, unknown>) {
  return null;
}
