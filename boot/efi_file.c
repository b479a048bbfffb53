/*
 * efi_file.c - paths and files on the volume the loader was booted from.
 */
#include "loader.h"

void ascii_to_char16(CHAR16 *dst, UINTN cap, const char *src)
{
	UINTN i = 0;
	for (; src[i] && i + 1 < cap; i++)
		dst[i] = (CHAR16)(unsigned char)src[i];
	dst[i] = 0;
}

void char16_to_ascii(char *dst, UINTN cap, const CHAR16 *src)
{
	UINTN i = 0;
	for (; src[i] && i + 1 < cap; i++)
		dst[i] = src[i] < 0x80 ? (char)src[i] : '?';
	dst[i] = 0;
}

void efi_loader_dir(EFI_LOADED_IMAGE *li, char *dir, UINTN cap)
{
	UINTN n = 0;
	EFI_DEVICE_PATH *dp = li->FilePath;
	/* Concatenate the file-path nodes: "\EFI\BOOT" "\BOOTX64.EFI" or one node. */
	for (; dp && !IsDevicePathEnd(dp); dp = NextDevicePathNode(dp)) {
		if (DevicePathType(dp) != MEDIA_DEVICE_PATH || DevicePathSubType(dp) != MEDIA_FILEPATH_DP)
			continue;
		FILEPATH_DEVICE_PATH *fp = (FILEPATH_DEVICE_PATH *)dp;
		UINTN chars = (DevicePathNodeLength(dp) - SIZE_OF_FILEPATH_DEVICE_PATH) / sizeof(CHAR16);
		if (n && dir[n - 1] != '\\' && fp->PathName[0] != L'\\' && n + 1 < cap)
			dir[n++] = '\\';
		for (UINTN i = 0; i < chars && fp->PathName[i] && n + 1 < cap; i++)
			dir[n++] = fp->PathName[i] == L'/' ? '\\'
							   : (fp->PathName[i] < 0x80 ? (char)fp->PathName[i] : '?');
	}
	/* Cut the file name; no path at all means the volume root. */
	while (n && dir[n - 1] != '\\')
		n--;
	while (n && dir[n - 1] == '\\')
		n--;
	dir[n] = 0;
}

EFI_STATUS efi_read_file(EFI_LOADED_IMAGE *li, const char *path, UINTN max, char **buf, UINTN *size)
{
	EFI_FILE_IO_INTERFACE *fs;
	EFI_FILE_HANDLE root, file;
	CHAR16 path16[CONFIG_PATH_MAX + 16];

	*buf = NULL;
	*size = 0;
	EFI_STATUS s = uefi_call_wrapper(BS->HandleProtocol, 3, li->DeviceHandle, &FileSystemProtocol,
					 (void **)&fs);
	if (EFI_ERROR(s))
		return s;
	s = uefi_call_wrapper(fs->OpenVolume, 2, fs, &root);
	if (EFI_ERROR(s))
		return s;
	ascii_to_char16(path16, sizeof(path16) / sizeof(path16[0]), path);
	s = uefi_call_wrapper(root->Open, 5, root, &file, path16, EFI_FILE_MODE_READ, 0ull);
	uefi_call_wrapper(root->Close, 1, root);
	if (EFI_ERROR(s))
		return s;

	EFI_FILE_INFO *info = LibFileInfo(file);
	if (!info) {
		uefi_call_wrapper(file->Close, 1, file);
		return EFI_DEVICE_ERROR;
	}
	UINTN want = info->FileSize;
	FreePool(info);
	if (want > max) {
		uefi_call_wrapper(file->Close, 1, file);
		return EFI_BUFFER_TOO_SMALL;
	}
	char *b = AllocatePool(want + 1);
	if (!b) {
		uefi_call_wrapper(file->Close, 1, file);
		return EFI_OUT_OF_RESOURCES;
	}
	UINTN got = want;
	s = uefi_call_wrapper(file->Read, 3, file, &got, b);
	uefi_call_wrapper(file->Close, 1, file);
	if (EFI_ERROR(s)) {
		FreePool(b);
		return s;
	}
	b[got] = 0;
	*buf = b;
	*size = got;
	return EFI_SUCCESS;
}
