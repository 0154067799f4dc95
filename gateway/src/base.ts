/** Where the API lives below any prefix the deployment adds (`/function/gateway` on faasd). */
export const API_BASE_PATH = '/api';
